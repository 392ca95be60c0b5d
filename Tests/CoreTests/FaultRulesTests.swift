import Core
import CoreTesting
import Foundation
import Testing

@Suite struct FaultRulesTests {
    let five = ["node1", "node2", "node3", "node4", "node5"]

    /// The same seed gives the same groups on every run and machine (SplitMix64, own shuffle):
    /// these values are fixed, not recomputed (they were cross-checked with an independent
    /// SplitMix64 + Fisher-Yates in Python).
    @Test func presetsAreRepeatablePerSeed() throws {
        for preset in PartitionShape.presets {
            let a = try PartitionShape.preset(preset, nodes: five, seed: 42)
            let b = try PartitionShape.preset(preset, nodes: five, seed: 42)
            #expect(a.groups == b.groups && a.grudge == b.grudge, "\(preset)")
        }
        #expect(try PartitionShape.preset("one", nodes: five, seed: 42).groups == FaultRulesTests.expectedOne42)
        #expect(try PartitionShape.preset("random-halves", nodes: five, seed: 7).groups == FaultRulesTests.expectedHalves7)
        var seen = Set<[[String]]>()
        for seed in UInt64(0)..<20 { seen.insert(try PartitionShape.preset("one", nodes: five, seed: seed).groups) }
        #expect(seen.count > 1, "different seeds choose different nodes")
    }

    static let expectedOne42: [[String]] = [["node2"], ["node1", "node3", "node4", "node5"]]
    static let expectedHalves7: [[String]] = [["node2", "node5"], ["node1", "node3", "node4"]]

    @Test func presetSizes() throws {
        let twelve = (1...12).map { "node\($0)" }
        #expect(try PartitionShape.preset("one", nodes: twelve, seed: 1).groups.map(\.count) == [1, 11])
        #expect(try PartitionShape.preset("minority-third", nodes: twelve, seed: 1).groups.map(\.count) == [3, 9])
        #expect(try PartitionShape.preset("majority", nodes: twelve, seed: 1).groups.map(\.count) == [7, 5])
        #expect(try PartitionShape.preset("random-halves", nodes: twelve, seed: 1).groups.map(\.count) == [6, 6])
        #expect(try PartitionShape.preset("majority", nodes: ["node1", "node2", "node3"], seed: 1).groups.map(\.count) == [2, 1])
    }

    /// Every node sees a majority (itself included), and no two nodes see the same one.
    @Test func majoritiesRing() throws {
        let ring = try PartitionShape.preset("majorities-ring", nodes: five, seed: 3)
        var seen = Set<Set<String>>()
        for node in five {
            let sees = Set(five).subtracting(ring.grudge[node] ?? [])
            #expect(sees.count == 3 && sees.contains(node), "\(node) sees \(sees)")
            seen.insert(sees)
        }
        #expect(seen.count == 5)
        #expect(ring.groups.count == 5)
    }

    @Test func unknownPresetAndBadGroupsSayWhatToDo() {
        #expect(throws: FaultError.self) { try PartitionShape.preset("halves", nodes: five, seed: 1) }
        do { _ = try PartitionShape.preset("halves", nodes: five, seed: 1) } catch let error as FaultError {
            #expect(error.kind == .usage && error.message.contains("random-halves"))
        } catch {}
        #expect(throws: FaultError.self) { try PartitionShape.grudge(groups: [["node1"], ["node1", "node2"]], nodes: five) }
        #expect(throws: FaultError.self) { try PartitionShape.grudge(groups: [["node9"]], nodes: five) }
        #expect(throws: FaultError.self) { try PartitionShape.grudge(groups: [five], nodes: five) }
    }

    /// A node in no group is on the side of the rest; each side drops the other on input.
    @Test func partitionRules() throws {
        let made = try PartitionShape.grudge(groups: [["node1"]], nodes: ["node1", "node2", "node3"])
        #expect(made.groups == [["node1"], ["node2", "node3"]])
        let addresses = ["node1": "10.0.0.1", "node2": "10.0.0.2", "node3": "10.0.0.3"]
        let rules = FaultRules.partition(made.grudge, addresses: addresses)
        #expect(rules["node1"]?.firewall == [FirewallRule(chain: "INPUT", spec: ["-s", "10.0.0.2", "-j", "DROP"]),
                                             FirewallRule(chain: "INPUT", spec: ["-s", "10.0.0.3", "-j", "DROP"])])
        #expect(rules["node2"]?.firewall == [FirewallRule(chain: "INPUT", spec: ["-s", "10.0.0.1", "-j", "DROP"])])
        let tag = FaultRules.tag(cluster: "c1", id: 7)
        #expect(tag == "ccm-lua:c1:7")
        let add = FaultRules.addScript(rules["node2"]!, tag: tag)
        #expect(add == "set -e\niptables -w -A INPUT -s 10.0.0.1 -j DROP -m comment --comment ccm-lua:c1:7")
        let remove = FaultRules.removeScript(rules["node2"]!, tag: tag)
        #expect(remove == "iptables -w -D INPUT -s 10.0.0.1 -j DROP -m comment --comment ccm-lua:c1:7 2>/dev/null || true\ntrue")
    }

    @Test func blockIsOneWayByConnectionDirection() {
        let rules = FaultRules.block(from: "node1", to: "node2", addresses: ["node1": "10.0.0.1", "node2": "10.0.0.2"])
        #expect(rules.keys.sorted() == ["node2"])
        #expect(rules["node2"]?.firewall == [FirewallRule(chain: "INPUT", spec: [
            "-s", "10.0.0.1", "-m", "conntrack", "--ctdir", "ORIGINAL", "-j", "DROP"])])
    }

    @Test func lossAndRateRules() {
        let addresses = ["node1": "10.0.0.1", "node2": "10.0.0.2"]
        let loss = FaultRules.loss(node: "node1", percent: 30, to: ["node2"], addresses: addresses)
        #expect(loss["node1"]?.firewall == [FirewallRule(chain: "OUTPUT", spec: [
            "-d", "10.0.0.2", "-m", "statistic", "--mode", "random", "--probability", "0.3000", "-j", "DROP"])])
        let all = FaultRules.loss(node: "node1", percent: 100, to: nil, addresses: addresses)
        #expect(all["node1"]?.firewall.first?.spec.prefix(2) == ["-o", "eth0"])

        let rate = FaultRules.rate(node: "node1", kbit: 512, to: nil, addresses: addresses)
        #expect(rate["node1"]?.qdisc == [["qdisc", "add", "dev", "eth0", "root", "handle", "1:", "tbf", "rate", "512kbit",
                                         "burst", "1600", "latency", "400ms"]])
        let toOne = FaultRules.rate(node: "node1", kbit: 512, to: ["node2"], addresses: addresses)
        #expect(toOne["node1"]?.qdisc.count == 3)
        #expect(toOne["node1"]?.qdisc.last?.contains("10.0.0.2/32") == true)
        // Healing a qdisc fault deletes the root qdisc it set up, nothing else.
        #expect(FaultRules.removeScript(rate["node1"]!, tag: "t") == "tc qdisc del dev eth0 root 2>/dev/null || true\ntrue")
    }

    @Test func netemArgumentsAndTheUnsupportedMessage() {
        let rules = FaultRules.netem(node: "node1", .delay(ms: 100, jitter: 10))
        #expect(rules["node1"]?.qdisc == [["qdisc", "add", "dev", "eth0", "root", "handle", "1:", "netem", "delay", "100ms", "10ms"]])
        // Towards given nodes: netem sits in prio's extra band, like rate's tbf, and only their
        // addresses are steered into it.
        let toOne = FaultRules.netem(node: "node1", .duplicate(percent: 5), to: ["node2"], addresses: ["node2": "10.0.0.2", "node3": "10.0.0.3"])
        #expect(toOne["node1"]?.qdisc == [
            ["qdisc", "add", "dev", "eth0", "root", "handle", "1:", "prio", "bands", "4",
             "priomap", "1", "2", "2", "2", "1", "2", "0", "0", "1", "1", "1", "1", "1", "1", "1", "1"],
            ["qdisc", "add", "dev", "eth0", "parent", "1:4", "handle", "40:", "netem", "duplicate", "5%"],
            ["filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
             "match", "ip", "dst", "10.0.0.2/32", "flowid", "1:4"]])
        let error = NetemSupport.unsupported(.delay(ms: 100, jitter: 0))
        #expect(error.kind == .unsupported)
        #expect(error.message.contains("sch_netem") && error.message.contains("fault.delay"))
    }

    /// Where the kernel has no netem, applying a netem fault raises "unsupported" and adds nothing.
    @Test func netemFaultOnAKernelWithoutNetemIsUnsupported() async throws {
        NetemSupport.assume(false)
        defer { NetemSupport.assume(nil) }
        let fake = FakeContainerRuntime()
        fake.addImage("img")
        try await fake.createNetwork(NetworkSpec(name: "ccm-lua-c1"))
        var spec = ContainerSpec(name: Cluster.containerName("c1", "node1"), image: "img")
        spec.network = "ccm-lua-c1"
        _ = try await fake.createContainer(spec)
        try await fake.start(spec.name)
        let injector = FaultInjector(cluster: "c1", network: "ccm-lua-c1", runtime: fake, history: History())
        await #expect(throws: FaultError.self) {
            try await injector.apply(.netem(node: "node1", .delay(ms: 50, jitter: 0), to: nil), id: FaultInjector.newID())
        }
        #expect(await injector.activeIDs.isEmpty)
        #expect(fake.calls("createContainer").count == 1, "no helper container was started")
    }

    @Test func actionFaultsAreRecordedAndHealedOnTime() async throws {
        let history = History()
        let injector = FaultInjector(cluster: "c1", network: "n", runtime: FakeContainerRuntime(), history: history)
        let healed = AsyncStream<Void>.makeStream()
        let id = FaultInjector.newID()
        let began = ContinuousClock.now
        try await injector.apply(.action(name: "pause", node: "node2", start: {}, heal: { healed.continuation.yield() }),
                                 id: id, duration: 0.2)
        #expect(history.events.first?.name == "pause" && history.events.first?.targets == ["node2"])
        var iterator = healed.stream.makeAsyncIterator()
        _ = await iterator.next()
        let took = (ContinuousClock.now - began)
        #expect(took >= .milliseconds(200) && took < .seconds(1.2))
        // The end is written once the heal returned.
        #expect(await eventuallyTrue { history.events.first?.end != nil })
        #expect(await injector.activeIDs.isEmpty)
        try await injector.heal(id)   // healing again is no error
    }
}

private func eventuallyTrue(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<100 { if await condition() { return true }; try? await Task.sleep(for: .milliseconds(10)) }
    return false
}
