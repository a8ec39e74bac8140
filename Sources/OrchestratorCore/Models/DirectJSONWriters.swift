/// Direct JSON writers of the types encoded on every workflow transition (see
/// ``StreamingJSONWritable``). Each writes exactly the fields its `encode(to:)` writes, in the
/// same order; `StreamingJSONEncoderTests` checks them against Foundation's output.

extension SLA: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.integer("deadline", deadline)
        object.integer("timeout_ms", timeoutMs)
        object.integer("max_retries", maxRetries)
    }
}

extension QoS: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.symbol("delivery_mode", deliveryMode)
        object.symbol("consistency", consistency)
        object.symbol("durability", durability)
    }
}

extension ExecutionTicket: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.text("ticket_id", ticketId)
        object.text("plan_id", planId)
        object.text("intent_id", intentId)
        object.text("decision_id", decisionId)
        object.text("correlation_id", correlationId)
        object.text("trace_id", traceId)
        object.text("span_id", spanId)
        object.text("task_id", taskId)
        object.symbol("task_type", taskType)
        object.text("description", description)
        object.texts("dependencies", dependencies)
        object.symbol("status", status)
        object.symbol("priority", priority)
        object.symbol("risk_band", riskBand)
        try object.value("sla", sla)
        try object.value("qos", qos)
        object.map("parameters", parameters)
        object.texts("required_capabilities", requiredCapabilities)
        object.symbol("security_level", securityLevel)
        object.integer("created_at", createdAt)
        object.integer("started_at", startedAt)
        object.integer("completed_at", completedAt)
        object.integer("estimated_duration_ms", estimatedDurationMs)
        object.integer("actual_duration_ms", actualDurationMs)
        object.integer("retry_count", retryCount)
        object.text("error_message", errorMessage)
        object.text("compensation_ticket_id", compensationTicketId)
        object.map("metadata", metadata)
        object.integer("schema_version", schemaVersion)
    }
}

extension ExecutionResultPayload: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.boolean("success", success)
        object.map("output", output)
        object.map("metadata", metadata)
        object.texts("logs", logs)
    }
}

extension TicketRecord: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        try object.value("ticket", ticket)
        object.symbol("phase", phase)
        object.integer("lease_epoch", leaseEpoch)
        object.textIfPresent("worker_id", workerId)
        object.integerIfPresent("lease_expires_at", leaseExpiresAt)
        object.integerIfPresent("attempt_started_at", attemptStartedAt)
        object.integerIfPresent("released_at", releasedAt)
        try object.number("score", score)
        object.boolean("sla_violated", slaViolated)
        try object.valueIfPresent("result", result)
        object.textIfPresent("compensates", compensates)
        object.symbol("compensation", compensation)
    }
}

extension FlowCTelemetryEvent: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.symbol("event_type", eventType)
        object.integer("timestamp", timestamp)
        object.text("intent_id", intentId)
        object.text("plan_id", planId)
        object.text("decision_id", decisionId)
        object.text("workflow_id", workflowId)
        object.text("correlation_id", correlationId)
        object.text("trace_id", traceId)
        object.text("span_id", spanId)
        object.text("step", step)
        object.text("ticket_id", ticketId)
        object.text("task_type", taskType)
        object.text("worker_id", workerId)
        object.integer("duration_ms", durationMs)
        object.text("status", status)
        object.boolean("success", success)
        object.boolean("sla_compliant", slaCompliant)
        object.texts("ticket_ids", ticketIds)
        object.text("error", error)
        object.text("error_type", errorType)
        object.map("result", result)
        try object.value("metadata", metadata)
        object.integer("schema_version", schemaVersion)
    }
}

extension ExecutionResult: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.text("ticket_id", ticketId)
        object.symbol("status", status)
        try object.value("result", result)
        object.text("error_message", errorMessage)
        object.integer("actual_duration_ms", actualDurationMs)
        object.text("agent_id", agentId)
        object.integer("timestamp", timestamp)
        object.integer("schema_version", schemaVersion)
    }
}

/// History entries: the events of every ticket's life are written directly, in the shape the
/// synthesised `Codable` of ``WorkflowEvent`` reads (`{"case":{"label":value,…}}`); the rare
/// workflow-level events go through `Codable`.
extension TimedEvent: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.integer("at", at)
        switch event {
        case .leased(let ticketId, let workerId, let expiresAt):
            object.object("event") { event in
                event.object("leased") { fields in
                    fields.text("ticketId", ticketId)
                    fields.text("workerId", workerId)
                    fields.integer("expiresAt", expiresAt)
                }
            }
        case .heartbeat(let ticketId, let leaseEpoch, let expiresAt):
            object.object("event") { event in
                event.object("heartbeat") { fields in
                    fields.text("ticketId", ticketId)
                    fields.integer("leaseEpoch", leaseEpoch)
                    fields.integer("expiresAt", expiresAt)
                }
            }
        case .completed(let ticketId, let leaseEpoch, let result):
            try object.object("event") { event in
                try event.object("completed") { fields in
                    fields.text("ticketId", ticketId)
                    fields.integerIfPresent("leaseEpoch", leaseEpoch)
                    try fields.value("result", result)
                }
            }
        default:
            try object.value("event", event)
        }
    }
}

/// The workflow row's state (written on every transition). Optional fields are left out when
/// absent, like the synthesised `Encodable`.
extension WorkflowState: StreamingJSONWritable {
    public func writeJSON(_ object: JSONObjectWriter) throws {
        object.text("workflow_id", workflowId)
        object.text("decision_id", decisionId)
        object.text("plan_id", planId)
        object.text("intent_id", intentId)
        object.textIfPresent("correlation_id", correlationId)
        object.textIfPresent("trace_id", traceId)
        object.textIfPresent("span_id", spanId)
        object.symbol("status", status)
        if let riskBand { object.symbol("risk_band", riskBand) }
        object.integer("created_at", createdAt)
        object.integer("updated_at", updatedAt)
        object.integerIfPresent("started_at", startedAt)
        object.integerIfPresent("completed_at", completedAt)
        try object.valueIfPresent("validation", validation)
        try object.value("tickets", tickets)
        try object.valueIfPresent("metrics", metrics)
        object.textIfPresent("reason", reason)
        object.textIfPresent("actor", actor)
        object.integer("event_count", eventCount)
        object.integer("incident_count", incidentCount)
        try object.valueIfPresent("pending_decision", pendingDecision)
    }
}
