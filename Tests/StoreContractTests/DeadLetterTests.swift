import OrchestratorCore
import OrchestratorStore
import Testing

/// Dead letters: saved once per source position, listed oldest first, filtered and paged.
@Suite struct DeadLetterTests {
    func letter(_ topic: String, _ offset: Int64, payload: [UInt8] = Array("{bad".utf8)) -> DeadLetter {
        DeadLetter(
            topic: topic,
            partition: 1,
            offset: offset,
            key: "key-\(offset)",
            payload: payload,
            reason: "not valid JSON at \(offset)",
            recordedAt: startTime + offset
        )
    }

    @Test(arguments: StoreContract.all)
    func savedOncePerPositionAndListedInOrder(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let first = try await store.saveDeadLetter(letter("plans.consensus", 7))
            let second = try await store.saveDeadLetter(letter("execution.results", 3))
            var again = letter("plans.consensus", 7)
            again.reason = "redelivered"
            #expect(try await store.saveDeadLetter(again) == first)
            #expect(second > first)

            let all = try await store.deadLetters(DeadLetterFilter())
            #expect(all.map(\.id) == [first, second])
            #expect(all[0].reason == "not valid JSON at 7")
            #expect(all[0].key == "key-7")
            #expect(all[0].payload == Array("{bad".utf8))
            #expect(all[0].payloadSize == 4)
            #expect(all[0].partition == 1)
            #expect(all[0].recordedAt == startTime + 7)

            let results = try await store.deadLetters(DeadLetterFilter(topic: "execution.results"))
            #expect(results.map(\.offset) == [3])
            #expect(try await store.deadLetters(DeadLetterFilter(limit: 1, offset: 1)).map(\.id) == [second])
            #expect(try await store.deadLetters(DeadLetterFilter(topic: "none")).isEmpty)
        }
    }

    @Test(arguments: StoreContract.all)
    func aLargePayloadKeepsItsSizeAndAPrefix(contract: StoreContract) async throws {
        try await contract.withStore { store, _ in
            let big = [UInt8](repeating: 0xFF, count: DeadLetter.maxStoredPayload + 10)
            try await store.saveDeadLetter(letter("plans.ready", 1, payload: big))
            let stored = try #require(try await store.deadLetters(DeadLetterFilter()).first)
            #expect(stored.payloadSize == big.count)
            #expect(stored.payload.count == DeadLetter.maxStoredPayload)
            #expect(stored.isTruncated)
            #expect(stored.key == "key-1")
        }
    }
}
