import Foundation
import OrchestratorCore
import OrchestratorEngine

@testable import OrchestratorWorker

/// A stand-in for the orchestrator's REST API, in Python, following the worker contract
/// (register, poll, heartbeat, complete, fail; 404 for unknown workers, 409 for a second report
/// of a ticket) and a few read endpoints. It records every worker call, served at
/// `GET /_stub/calls`; `POST /_stub/tickets` queues tickets.
struct APIStubServer {
    let server: PythonServer
    var baseURL: String { server.baseURL }

    /// Starts the stub, on `port` when given (0: any free port).
    static func start(port: Int = 0) async throws -> APIStubServer {
        APIStubServer(server: try await PythonServer(script: apiStubScript, arguments: [String(port)]))
    }

    func stop() { server.stop() }

    /// Queues tickets for workers to lease; with `conflictOnReport` their reports get a 409.
    func enqueue(_ tickets: [ExecutionTicket], conflictOnReport: Bool = false) async throws {
        let body: [String: JSONValue] = [
            "tickets": .array(
                try tickets.map { try JSONDecoder().decode(JSONValue.self, from: WireJSON.encode($0)) }
            ),
            "conflict": .bool(conflictOnReport),
        ]
        try await withControlClient { client in
            _ = try await client.send("POST", "/_stub/tickets", body: Array(JSONEncoder().encode(body)))
        }
    }

    /// The worker calls received so far: `{kind, path, body}` each.
    func calls() async throws -> [[String: JSONValue]] {
        let response = try await withControlClient { try await $0.send("GET", "/_stub/calls") }
        guard case .array(let items) = try JSONDecoder().decode(JSONValue.self, from: Data(response.body)) else {
            return []
        }
        return items.compactMap { if case .object(let call) = $0 { return call } else { return nil } }
    }

    /// The calls of one kind (`register`, `poll`, `heartbeat`, `complete`, `fail`).
    func calls(_ kind: String) async throws -> [[String: JSONValue]] {
        try await calls().filter { $0["kind"] == .string(kind) }
    }

    private func withControlClient<T: Sendable>(_ body: (OrchestratorClient) async throws -> T) async throws -> T {
        let client = OrchestratorClient(baseURL: baseURL)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

let apiStubScript = #"""
    import http.server, json, os, sys, threading, time

    lock = threading.Lock()
    workers = {}
    queue = []
    conflicting = set()
    reported = set()
    calls = []
    token = [0]
    workflows = {
        "orch-plan-1": {
            "workflow_id": "orch-plan-1", "status": "COMPLETED", "plan_id": "plan-1", "decision_id": "decision-1",
            "created_at": 1700000000000, "completed_at": "1700000005000", "extra_field": {"ignored": True},
            "metrics": {"total": 2, "successful": 2, "failed": 0, "compensated": 0, "skipped": 0, "retries": 1,
                        "sla_violations": 0, "duration_ms": 5000},
            "tickets": [
                {"ticket_id": "t-1", "task_id": "a", "task_type": "BUILD", "status": "COMPLETED", "phase": "COMPLETED",
                 "retry_count": 0, "worker_id": "w-1", "actual_duration_ms": 12},
                {"ticket": {"ticket_id": "t-2", "task_id": "b", "task_type": "TEST", "status": "COMPLETED",
                            "retry_count": "1"}, "phase": "COMPLETED", "worker_id": None},
            ],
        }
    }

    def error(code, message):
        return {"error": {"code": code, "message": message}}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, value):
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length", "0"))
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self):
            parts = self.path.split("?")[0].strip("/").split("/")
            if self.path == "/health":
                self.answer(200, {"status": "healthy", "service": "orchestrator-dynamic", "version": "stub"})
            elif self.path == "/_stub/calls":
                with lock:
                    self.answer(200, calls)
            elif parts[:3] == ["api", "v1", "workflows"] and len(parts) == 4:
                found = workflows.get(parts[3])
                if found:
                    self.answer(200, found)
                else:
                    self.answer(404, error("not_found", "no workflow " + parts[3]))
            elif parts[:3] == ["api", "v1", "workflows"]:
                self.answer(200, {"workflows": list(workflows.values()), "query": self.path.split("?")[-1]})
            else:
                self.answer(404, error("not_found", "no route"))

        def do_POST(self):
            path = self.path.split("?")[0]
            parts = path.strip("/").split("/")
            body = self.body()
            if path == "/_stub/tickets":
                with lock:
                    queue.extend(body["tickets"])
                    if body.get("conflict"):
                        conflicting.update(t["ticket_id"] for t in body["tickets"])
                return self.answer(200, {})
            if path == "/api/v1/decisions":
                return self.answer(201, {"workflow_id": "orch-" + body.get("plan_id", "?"), "created": True,
                                         "status": "RUNNING", "validation": None})
            if path == "/api/v1/plans":
                if "start=true" in self.path:
                    return self.answer(201, {"workflow_id": "orch-" + body.get("plan_id", "?"), "created": True,
                                             "status": "RUNNING", "validation": None})
                return self.answer(202, {"plan_id": body.get("plan_id")})
            if path == "/api/v1/workers/register":
                if not body.get("worker_id"):
                    return self.answer(400, error("invalid", "worker_id: required field is missing or empty"))
                with lock:
                    workers[body["worker_id"]] = body
                    calls.append({"kind": "register", "path": path, "body": body})
                return self.answer(200, {"worker_id": body["worker_id"], "capabilities": body["capabilities"],
                                         "lease_ttl_ms": 30000, "heartbeat_interval_ms": 100})
            if parts[:3] == ["api", "v1", "workers"] and parts[-1] == "poll":
                worker = parts[3]
                deadline = time.time() + min(body.get("wait_ms", 0), 300) / 1000
                while True:
                    with lock:
                        if worker not in workers:
                            return self.answer(404, error("not_found", "worker " + worker + " is not registered"))
                        if queue:
                            ticket = queue.pop(0)
                            token[0] += 1
                            calls.append({"kind": "poll", "path": path, "body": body})
                            grant = {"workflow_id": "orch-" + ticket["plan_id"], "ticket": ticket,
                                     "fencing_token": token[0], "lease_expires_at": int(time.time() * 1000) + 30000,
                                     "heartbeat_interval_ms": 100}
                            return self.answer(200, {"tickets": [grant]})
                    if time.time() >= deadline:
                        return self.answer(200, {"tickets": []})
                    time.sleep(0.02)
            if parts[:3] == ["api", "v1", "tickets"]:
                ticket_id, kind = parts[3], parts[4]
                with lock:
                    calls.append({"kind": kind, "path": path, "body": body})
                    if kind == "heartbeat":
                        return self.answer(200, {"ticket_id": ticket_id, "lease_expires_at": 1})
                    if ticket_id in reported or ticket_id in conflicting:
                        return self.answer(409, error("conflict", "ticket " + ticket_id + " was already reported"))
                    reported.add(ticket_id)
                return self.answer(200, {"ticket_id": ticket_id, "status": "COMPLETED" if kind == "complete" else "FAILED"})
            self.answer(404, error("not_found", "no route"))

    class Server(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True

    server = Server(("127.0.0.1", int(sys.argv[2])), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
    """#
