import Testing

@testable import OrchestratorCore

/// Producers' loose spellings mapped to the ticket contract's enums.
@Suite struct PlanNormalisationTests {
    @Test(
        arguments: [
            ("create", TaskType.EXECUTE),
            ("update", .EXECUTE),
            ("CREATE", .EXECUTE),
            ("execute", .EXECUTE),
            ("query", .QUERY),
            ("Query", .QUERY),
            ("transform", .TRANSFORM),
            ("validate", .VALIDATE),
            ("VALIDATE", .VALIDATE),
            ("build", .BUILD),
            ("BUILD", .BUILD),
            ("deploy", .DEPLOY),
            ("Test", .TEST),
            (" test ", .TEST),
            ("compensate", .COMPENSATE),
        ]
    )
    func knownTaskTypes(text: String, expected: TaskType) {
        let mapped = PlanNormalisation.taskType(text)
        #expect(mapped.type == expected)
        #expect(mapped.original == nil)
    }

    @Test(arguments: ["deploy_canary", "analyse", "Delete", ""])
    func unknownTaskTypeBecomesExecuteKeepingTheOriginal(text: String) {
        let mapped = PlanNormalisation.taskType(text)
        #expect(mapped.type == .EXECUTE)
        #expect(mapped.original == text)
    }

    @Test(
        arguments: [
            ("HIGH", Priority.HIGH),
            ("high", .HIGH),
            ("Critical", .CRITICAL),
            ("low", .LOW),
            ("normal", .NORMAL),
            ("NORMAL", .NORMAL),
            ("medium", .NORMAL),
            ("urgent", .CRITICAL),
        ]
    )
    func priorities(text: String, expected: Priority) throws {
        #expect(try PlanNormalisation.priority(text).get() == expected)
    }

    @Test(
        arguments: [
            ("CONFIDENTIAL", SecurityLevel.CONFIDENTIAL),
            ("confidential", .CONFIDENTIAL),
            ("public", .PUBLIC),
            ("Internal", .INTERNAL),
            ("restricted", .RESTRICTED),
        ]
    )
    func securityLevels(text: String, expected: SecurityLevel) throws {
        #expect(try PlanNormalisation.securityLevel(text).get() == expected)
    }

    @Test func emptyPriorityAndSecurityAreAbsentNotDefaulted() throws {
        #expect(try PlanNormalisation.priority("").get() == nil)
        #expect(try PlanNormalisation.priority("  ").get() == nil)
        #expect(try PlanNormalisation.securityLevel("").get() == nil)
    }

    @Test func unknownPriorityIsAProblemNamingTheField() {
        guard case .failure(let problem) = PlanNormalisation.priority("asap") else {
            Issue.record("\"asap\" was accepted")
            return
        }
        #expect(problem.code == .invalidValue)
        #expect(problem.field == "original_priority")
        #expect(problem.message.contains("\"asap\""))
    }

    @Test func unknownSecurityLevelIsAProblemNamingTheField() {
        guard case .failure(let problem) = PlanNormalisation.securityLevel("secret") else {
            Issue.record("\"secret\" was accepted")
            return
        }
        #expect(problem.code == .invalidValue)
        #expect(problem.field == "original_security_level")
        #expect(problem.message.contains("\"secret\""))
    }
}
