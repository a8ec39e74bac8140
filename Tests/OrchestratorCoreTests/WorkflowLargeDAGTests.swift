import Foundation
import Testing

@testable import OrchestratorCore

/// The benchmark's 1 000-task random DAG driven to completion through the state machine.
@Suite struct WorkflowLargeDAGTests {
    typealias F = WorkflowFixture

    /// Counts each released ticket and checks that every dependency of it has completed.
    static func noteReleases(
        _ released: [String],
        _ h: WorkflowHarness,
        _ releases: inout [String: Int],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for ticketId in released {
            releases[ticketId, default: 0] += 1
            guard let i = h.index.position[ticketId] else {
                Issue.record("released an unknown ticket \(ticketId)", sourceLocation: sourceLocation)
                continue
            }
            for dependency in h.state.tickets[i].ticket.dependencies {
                let phase = h.index.position[dependency].map { h.state.tickets[$0].phase }
                #expect(
                    phase == .COMPLETED,
                    "\(ticketId) released before \(dependency)",
                    sourceLocation: sourceLocation
                )
            }
        }
    }

    @Test func thousandTaskRandomDAGRunsToCompletion() throws {
        let generated = BenchWorkload.generate(shape: .random, tasks: 1_000, seed: 42)
        #expect(generated.fingerprint == "533722745a5130c2")
        #expect(generated.dependencyCount == 1_515)
        #expect(generated.longestChain == 20)
        let plan = generated.plan(createdAt: F.start)
        var decision = ConsolidatedDecision(
            decisionId: "decision-bench",
            planId: plan.planId,
            intentId: plan.intentId,
            plan: plan,
            createdAt: F.start
        )
        decision.correlationId = "corr-bench"
        let workflowId = TicketContext.workflowId(planId: plan.planId)
        var (h, intake) = try WorkflowHarness.started(decision, workflowId: workflowId)
        #expect(h.state.status == .RUNNING)
        #expect(h.state.tickets.count == 1_000)

        let roots = h.state.tickets.filter { $0.ticket.dependencies.isEmpty }.map(\.ticketId)
        #expect(intake.released == roots)
        var releases: [String: Int] = [:]
        Self.noteReleases(intake.released, h, &releases)

        var completions: [String: Int] = [:]
        var completionSequence: [String: Int] = [:]
        var rounds = 0
        while h.state.status == .RUNNING {
            let ready = h.state.tickets.filter { $0.phase == .READY }.map(\.ticketId)
            try #require(!ready.isEmpty, "a running workflow with nothing ready")
            rounds += 1
            for ticketId in ready {
                h.clock.advance(1)
                try h.apply(.leased(ticketId: ticketId, workerId: "bench", expiresAt: h.clock.now + 30_000))
                h.clock.advance(1)
                let done = try h.apply(
                    .completed(
                        ticketId: ticketId,
                        leaseEpoch: 1,
                        result: F.success(ticketId, at: h.clock.now)
                    )
                )
                completions[ticketId, default: 0] += 1
                completionSequence[ticketId] = completionSequence.count
                Self.noteReleases(done.released, h, &releases)
            }
        }

        #expect(h.state.status == .COMPLETED)
        #expect(rounds == generated.longestChain)
        #expect(completions.count == 1_000)
        #expect(completions.values.allSatisfy { $0 == 1 })
        #expect(releases.count == 1_000)
        #expect(releases.values.allSatisfy { $0 == 1 })
        for record in h.state.tickets {
            let sequence = try #require(completionSequence[record.ticketId])
            for dependency in record.ticket.dependencies {
                #expect(try #require(completionSequence[dependency]) < sequence)
            }
            #expect(record.phase == .COMPLETED)
            #expect(record.leaseEpoch == 1)
            #expect(try #require(record.ticket.completedAt) > #require(record.ticket.startedAt))
        }
        let metrics = try #require(h.state.metrics)
        #expect(metrics.total == 1_000)
        #expect(metrics.successful == 1_000)
        #expect(metrics.retries == 0)
        #expect(metrics.slaViolations == 0)
        #expect(metrics.durationMs == 2_000)
        #expect(h.incidents == [])
        #expect(h.outbox.filter { $0.topic == .tickets }.count == 1_000)
        #expect(h.outbox.filter { $0.topic == .telemetryFrames }.count == 1)

        let anyTicket = h.state.tickets[500].ticketId
        let again = h.refusal(
            .completed(ticketId: anyTicket, leaseEpoch: 1, result: F.success(anyTicket, at: h.clock.now))
        )
        #expect(again?.code == .invalidState)

        let replayed = try WorkflowStateMachine().replay(workflowId: workflowId, history: h.history)
        #expect(replayed == h.state)
    }
}
