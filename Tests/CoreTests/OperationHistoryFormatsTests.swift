import Foundation
import Testing
@testable import Core

@Suite struct OperationHistoryFormatsTests {
    /// Every kind of value, a nemesis, missing keys and times, errors.
    static var varied: OperationHistory {
        OperationHistory([
            ClientOperation(index: 0, kind: .invoke, process: .client(0), f: "write", key: "a", value: .integer(-3), time: 10),
            ClientOperation(index: 1, kind: .invoke, process: .named("nemesis"), f: "start-partition", value: .none, time: 11),
            ClientOperation(index: 2, kind: .ok, process: .client(0), f: "write", key: "a", value: .integer(-3), time: 20),
            ClientOperation(index: 3, kind: .invoke, process: .client(1), f: "cas", key: "b \"quoted\"\n",
                            value: .list([.integer(1), .double(2.5), .double(3), .bool(true), .none])),
            ClientOperation(index: 4, kind: .info, process: .client(1), f: "cas", key: "b \"quoted\"\n", value: .none,
                            error: "timed-out"),
            ClientOperation(index: 5, kind: .info, process: .named("nemesis"), f: "start-partition",
                            value: .map(["n1": .list([.string("n2"), .string("n3")]), "why": .string("tab\there ü")]),
                            time: 30),
            ClientOperation(index: 6, kind: .invoke, process: .client(5), f: "append", key: "c", value: .string("x 0 1 y")),
            ClientOperation(index: 7, kind: .fail, process: .client(5), f: "append", key: "c", value: .string("x 0 1 y"),
                            error: "conflict: key busy"),
        ])
    }

    @Test func jsonLinesRoundTrip() throws {
        let data = OperationHistoryFormats.jsonLines(Self.varied)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.split(separator: "\n").count == 8)
        #expect(text.hasPrefix(#"{"index":0,"type":"invoke","process":0,"f":"write","key":"a","value":-3,"time":10}"#))
        #expect(OperationHistoryFormats.detect(text) == .jsonLines)
        #expect(try OperationHistoryFormats.load(data) == Self.varied)
    }

    @Test func ednRoundTrip() throws {
        let text = OperationHistoryFormats.edn(Self.varied)
        let lines = text.split(separator: "\n")
        #expect(lines[0] == "{:index 0, :type :invoke, :process 0, :f :write, :key \"a\", :value -3, :time 10}")
        #expect(lines[1] == "{:index 1, :type :invoke, :process :nemesis, :f :start-partition, :value nil, :time 11}")
        #expect(lines[4].hasSuffix(":error :timed-out}"))
        #expect(OperationHistoryFormats.detect(text) == .edn)
        #expect(try OperationHistoryFormats.load(Data(text.utf8)) == Self.varied)
    }

    @Test func generatedHistoriesRoundTripInBothFormats() throws {
        let history = LinearizableHistoryGenerator(model: .set, operations: 200, keys: 3, seed: 3).generate()
        #expect(try OperationHistoryFormats.load(OperationHistoryFormats.jsonLines(history)) == history)
        #expect(try OperationHistoryFormats.load(Data(OperationHistoryFormats.edn(history).utf8)) == history)
    }

    /// Op maps as Jepsen writes them (this sample is written for this test): no :index, keyword
    /// processes, unknown keys, vectors, comments, a map value, commas.
    static let jepsenEDN = """
        ; a cas register under a partition
        {:process 0, :type :invoke, :f :write, :value 1, :time 1000}
        {:process 0, :type :ok, :f :write, :value 1, :time 2000, :node "n1"}
        {:process :nemesis, :type :info, :f :start, :value {:n1 #{:n2 :n3}}, :time 2500}
        {:process 1, :type :invoke, :f :cas, :value [1 2], :time 3000}
        {:process 2, :type :invoke, :f :read, :value nil, :time 3100}
        {:process 1, :type :ok, :f :cas, :value [1 2], :time 4000}
        {:process 2, :type :ok, :f :read, :value 2, :time 4100, :debug #_ ignored [:x]}
        {:process 3 :type :invoke :f :write :value 3 :time 5000}
        {:process 3, :type :info, :f :write, :value 3, :time 6000, :error :timed-out}
        {:process 4, :type :invoke, :f :read, :value nil, :time 7000N}
        {:process 4, :type :ok, :f :read, :value 3, :time 8000}
        """

    @Test func jepsenEDNLoadsAndChecks() throws {
        let history = try OperationHistoryFormats.load(Data(Self.jepsenEDN.utf8))
        #expect(history.operations.count == 11)
        #expect(history.operations[0] == ClientOperation(index: 0, kind: .invoke, process: .client(0), f: "write",
                                                         value: .integer(1), time: 1000))
        #expect(history.operations[2].process == .named("nemesis"))
        #expect(history.operations[2].value == .map(["n1": .list([.string("n2"), .string("n3")])]))
        #expect(history.operations[3].value == .list([.integer(1), .integer(2)]))
        #expect(history.operations[8].error == "timed-out")
        #expect(history.operations[9].time == 7000)
        #expect(try Linearizability.check(history, model: .casRegister).valid == .valid)

        // The last read seeing 1 again is a stale read: 1 was replaced before it began.
        let stale = Self.jepsenEDN.replacingOccurrences(of: ":type :ok, :f :read, :value 3", with: ":type :ok, :f :read, :value 1")
        let result = try Linearizability.check(try OperationHistoryFormats.load(Data(stale.utf8)), model: .casRegister)
        #expect(result.valid == .invalid)
        #expect(result.keys[""]?.failedOperation?.value == .integer(1))
    }

    /// jepsen.independent: one register per key, every client value a `[key value]` tuple.
    static let independentEDN = """
        {:process 0, :type :invoke, :f :write, :value [1 3]}
        {:process 0, :type :ok, :f :write, :value [1 3]}
        {:process 1, :type :invoke, :f :read, :value [2 nil]}
        {:process :nemesis, :type :info, :f :start, :value nil}
        {:process 1, :type :ok, :f :read, :value [2 nil]}
        {:process 2, :type :invoke, :f :cas, :value [1 [3 4]]}
        {:process 2, :type :info, :f :cas, :value nil, :error :timeout}
        {:process 3, :type :invoke, :f :read, :value [1 nil]}
        {:process 3, :type :ok, :f :read, :value [1 4]}
        """

    @Test func independentTuplesBecomeKeyedOperations() throws {
        let loaded = try OperationHistoryFormats.load(Data(Self.independentEDN.utf8))
        // Read as it is, the tuples are values of one object: every read sees a pair.
        #expect(loaded.operations.allSatisfy { $0.key == nil })
        let split = try loaded.splittingIndependentKeys()
        #expect(split.operations.map(\.key) == ["1", "1", "2", nil, "2", "1", "1", "1", "1"])
        #expect(split.operations[5].value == .list([.integer(3), .integer(4)]), "a cas pair inside the tuple stays a pair")
        #expect(split.operations[6].key == "1", "an info without a tuple takes its invoke's key")
        #expect(split.operations[3].process == .named("nemesis") && split.operations[3].value == .none)
        let result = try Linearizability.check(split, model: .casRegister)
        #expect(result.valid == .valid)
        #expect(Set(result.keys.keys) == ["1", "2"])

        // Key 1 read 3 after the cas to 4 could only have happened if it never happened: still valid.
        // A read of 5 could not have happened at all.
        let bad = Self.independentEDN.replacingOccurrences(of: ":value [1 4]}", with: ":value [1 5]}")
        let badResult = try Linearizability.check(try OperationHistoryFormats.load(Data(bad.utf8)).splittingIndependentKeys(), model: .casRegister)
        #expect(badResult.valid == .invalid)
        #expect(badResult.keys["2"]?.valid == .valid && badResult.keys["1"]?.valid == .invalid)
    }

    @Test func aHistoryThatIsNotIndependentSaysWhichOperation() throws {
        let text = "{:process 0, :type :invoke, :f :write, :value 3}\n{:process 0, :type :ok, :f :write, :value 3}"
        let history = try OperationHistoryFormats.load(Data(text.utf8))
        #expect(throws: OperationHistory.NotIndependent(index: 0, value: .integer(3))) { try history.splittingIndependentKeys() }
        do { _ = try history.splittingIndependentKeys() } catch {
            #expect(error.description == "operation 0 has value 3, not a [key value] pair; load it without `independent` if the history is not from jepsen.independent")
        }
    }

    @Test func aWholeHistoryInOneVector() throws {
        let text = "[{:process 0, :type :invoke, :f :add, :value 1}\n {:process 0, :type :ok, :f :add, :value 1}]"
        let history = try OperationHistoryFormats.load(Data(text.utf8))
        #expect(history.operations.map(\.kind) == [.invoke, .ok])
        #expect(history.operations.map(\.index) == [0, 1])
    }

    @Test func jepsenEDNWithKeysIsSplitPerKey() throws {
        let text = """
            {:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
            {:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}
            {:process 1, :type :invoke, :f :get, :key "4", :value nil}
            {:process 1, :type :ok, :f :get, :key "4", :value "x 0 1 y"}
            {:process 1, :type :invoke, :f :get, :key "5", :value nil}
            {:process 1, :type :ok, :f :get, :key "5", :value "x"}
            """
        let result = try Linearizability.check(try OperationHistoryFormats.load(Data(text.utf8)), model: .kv)
        #expect(result.keys["4"]?.valid == .valid)
        #expect(result.keys["5"]?.valid == .invalid)
    }

    /// In the form of the text logs Jepsen's etcd tests wrote (written for this test): tabs and
    /// spaces, timeouts, a nemesis, log noise.
    static let etcdLog = """
        INFO  jepsen.core - Worker 0 starting
        INFO  jepsen.util - 0\t:invoke\t:read\tnil
        INFO  jepsen.util - 1\t:invoke\t:write\t4
        INFO  jepsen.util - 0\t:ok\t:read\tnil
        INFO  jepsen.util - 1\t:ok\t:write\t4
        INFO  jepsen.util - :nemesis\t:info\t:start\t"Cut off {:n1 #{:n2}}"
        INFO  jepsen.util - 2   :invoke   :cas   [4 1]
        INFO  jepsen.util - 3\t:invoke\t:cas\t[0 2]
        INFO  jepsen.util - 3\t:fail\t:cas\t[0 2]
        INFO  jepsen.util - 2\t:ok\t:cas\t[4 1]
        INFO  jepsen.util - 4\t:invoke\t:write\t3
        INFO  jepsen.util - 4\t:info\t:write\t:timed-out
        INFO  jepsen.util - 0\t:invoke\t:read\tnil
        INFO  jepsen.util - 0\t:fail\t:read\t:timed-out
        INFO  jepsen.util - 0\t:invoke\t:read\tnil
        INFO  jepsen.util - 0\t:ok\t:read\t1
        INFO  jepsen.util - 9\t:invoke\t:read\tnil
        INFO  jepsen.util - 9\t:ok\t:read\t3
        INFO  jepsen.util - :nemesis\t:info\t:stop\tfully connected
        """

    @Test func etcdLogLoadsAndChecks() throws {
        #expect(OperationHistoryFormats.detect(Self.etcdLog) == .jepsenLog)
        let history = try OperationHistoryFormats.load(Data(Self.etcdLog.utf8))
        #expect(history.operations.count == 18)
        #expect(history.operations[0] == ClientOperation(index: 0, kind: .invoke, process: .client(0), f: "read"))
        #expect(history.operations[4].process == .named("nemesis"))
        #expect(history.operations[4].value == .string("Cut off {:n1 #{:n2}}"))
        #expect(history.operations[5].value == .list([.integer(4), .integer(1)]))
        #expect(history.operations[10] == ClientOperation(index: 10, kind: .info, process: .client(4), f: "write",
                                                          error: "timed-out"))
        #expect(history.operations[17].value == .string("fully connected"))
        #expect(try Linearizability.check(history, model: .etcd).valid == .valid)

        // A read of 4 after the cas to 1 was acknowledged (and before the timed-out write of 3).
        let stale = Self.etcdLog.replacingOccurrences(of: "0\t:ok\t:read\t1", with: "0\t:ok\t:read\t4")
        let result = try Linearizability.check(try OperationHistoryFormats.load(Data(stale.utf8)), model: .etcd)
        #expect(result.valid == .invalid)
        #expect(result.keys[""]?.failedOperation?.value == .integer(4))
    }

    @Test func errorsNameTheLineAndWhatWasExpected() throws {
        func error(_ text: String) -> String {
            do { _ = try OperationHistoryFormats.load(Data(text.utf8)); return "no error" } catch { return "\(error)" }
        }
        #expect(error("{\"index\":0,\"type\":\"invoke\",\"process\":0,\"f\":\"read\"}\n{\"type\":\"done\",\"process\":0,\"f\":\"read\"}")
                == "line 2: \"type\" must be \"invoke\", \"ok\", \"fail\" or \"info\"")
        #expect(error("{\"type\":\"ok\",\"process\":0,\"f\":\"read\",}") .hasPrefix("line 1: not JSON: expected a quoted key"))
        #expect(error("{:process 0, :type :invoke, :f :read}\n\n{:process 0, :f :read}")
                == "line 3: the op map has no :type (expected e.g. :type :invoke)")
        #expect(error("{:process 0, :type :invoke, :f :read\n") .hasPrefix("line 2: not EDN: the text ends before the closing '}'"))
        #expect(error("INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t[1")
                == "line 2: the value '[1' is not EDN (the text ends before the closing ']'); expected nil, a number or [old new]")
        #expect(error("hello\n").hasPrefix("not a history: expected JSON lines"))
    }

    @Test func anEmptyFileIsAnEmptyHistory() throws {
        // Jepsen leaves empty logs behind (a run that recorded nothing); they check as valid.
        for text in ["", "\n\n", "  \n"] {
            let history = try OperationHistoryFormats.load(Data(text.utf8))
            #expect(history.operations.isEmpty)
            #expect(try Linearizability.check(history, model: .etcd).valid == .valid)
        }
    }

    @Test func loadPathNamesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ccm-lua-history-\(UUID().uuidString).edn").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{:process 0, :type :invoke, :f :read}\n{:type :ok}\n".utf8).write(to: URL(fileURLWithPath: path))
        do { _ = try OperationHistoryFormats.load(path: path); Issue.record("no error") } catch let error as OperationHistoryFormats.ReadError {
            #expect(error.line == 2)
            #expect(error.description == "\(path):2: the op map has no :process (expected e.g. :process 0)")
        }
    }
}
