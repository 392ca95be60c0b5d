import Testing
@testable import Core

@Suite struct ConfigMergeTests {
    let base: ConfigValue = .map([
        ("cluster_name", .string("test")),
        ("num_tokens", .int(256)),
        ("seed_provider", .list([.map([("class_name", .string("SimpleSeedProvider"))])])),
        ("client_encryption_options", .map([("enabled", .bool(false)), ("keystore", .string("conf/.keystore"))])),
    ])

    @Test func nestedMapsMergeKeyByKey() {
        let merged = base.merging(.map([("client_encryption_options", .map([("enabled", .bool(true))]))]))
        #expect(merged["client_encryption_options"] == .map([("enabled", .bool(true)), ("keystore", .string("conf/.keystore"))]))
        #expect(merged["num_tokens"] == .int(256))
    }

    @Test func scalarsAndListsReplace() {
        let merged = base.merging(.map([("num_tokens", .int(16)), ("seed_provider", .list([]))]))
        #expect(merged["num_tokens"] == .int(16))
        #expect(merged["seed_provider"] == .list([]))
    }

    @Test func removalMarkerDeletesAKey() {
        let merged = base.merging(.map([("num_tokens", .remove), ("absent", .remove)]))
        #expect(merged["num_tokens"] == nil)
        #expect(merged["absent"] == nil)
        #expect(merged["cluster_name"] == .string("test"))
    }

    @Test func newKeysAppendInOrderWithoutMarkers() {
        let merged = base.merging(.map([("extra", .map([("a", .int(1)), ("b", .remove)]))]))
        guard case .map(let entries) = merged else { Issue.record("not a map"); return }
        #expect(entries.last?.key == "extra")
        #expect(merged["extra"] == .map([("a", .int(1))]))
    }

    @Test func survivesJSONRoundTrip() throws {
        let data = try JSONEncoder().encode(base)
        #expect(try JSONDecoder().decode(ConfigValue.self, from: data) == base)
    }
}

@Suite struct ConfigFormatTests {
    @Test func yamlBlockStyle() throws {
        let value: ConfigValue = .map([
            ("cluster_name", .string("my cluster")),
            ("num_tokens", .int(256)),
            ("developer_mode", .bool(true)),
            ("seed_provider", .list([.map([
                ("class_name", .string("org.apache.cassandra.locator.SimpleSeedProvider")),
                ("parameters", .list([.map([("seeds", .string("10.0.0.2,10.0.0.3"))])])),
            ])])),
            ("empty", .map([])),
            ("version", .string("1.0")),
            ("flag", .string("yes")),
        ])
        let yaml = try ConfigFormat.yaml.render(value)
        #expect(yaml == """
        cluster_name: 'my cluster'
        num_tokens: 256
        developer_mode: true
        seed_provider:
        - class_name: org.apache.cassandra.locator.SimpleSeedProvider
          parameters:
          - seeds: '10.0.0.2,10.0.0.3'
        empty: {}
        version: '1.0'
        flag: 'yes'

        """)
    }

    @Test func properties() throws {
        let text = try ConfigFormat.properties.render(.map([("dc", .string("dc1")), ("rack", .string("rack1")), ("prefer_local", .bool(true))]))
        #expect(text == "dc=dc1\nrack=rack1\nprefer_local=true\n")
        #expect(throws: ClusterError.self) { try ConfigFormat.properties.render(.map([("nested", .map([]))])) }
    }

    @Test func jsonEscapes() throws {
        #expect(try ConfigFormat.json.render(.map([("a\"b", .list([.int(1), .null, .string("x\ny")]))])) == "{\"a\\\"b\":[1,null,\"x\\ny\"]}\n")
    }
}

import Foundation
