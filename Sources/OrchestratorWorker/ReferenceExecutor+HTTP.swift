import AsyncHTTPClient
import Foundation

extension ReferenceExecutor {
    /// The `http` work: one request, judged by its status code.
    func request(_ work: WorkParameters) async -> TaskOutcome {
        guard let url = work["url"], let parsed = URL(string: url),
            ["http", "https"].contains(parsed.scheme?.lowercased())
        else {
            return .failed(work.missing("url", "an http:// or https:// URL"), retryable: false)
        }
        let method = (work["method"] ?? "GET").uppercased()
        let expectation: StatusExpectation
        if let text = work["expect_status"] {
            guard let parsedExpectation = StatusExpectation(text) else {
                return .failed(
                    "\(work.name("expect_status")): \"\(text)\" is not a list of status codes or classes like 2xx",
                    retryable: false
                )
            }
            expectation = parsedExpectation
        } else {
            expectation = .success
        }
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        request.headers.add(name: "User-Agent", value: "orchestrator-dynamic-worker")
        if let body = work["body"] {
            let looksLikeJSON = body.first == "{" || body.first == "["
            let contentType = work["content_type"] ?? (looksLikeJSON ? "application/json" : "text/plain; charset=utf-8")
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(Array(body.utf8))
        }
        let timeoutMs = work.positiveInt("timeout_ms") ?? options.httpTimeoutMs
        let summary = "\(method) \(url)"
        do {
            let response = try await http.client().execute(request, timeout: .milliseconds(timeoutMs))
            var excerpt: [UInt8] = []
            var total = 0
            for try await buffer in response.body {
                total += buffer.readableBytes
                if excerpt.count < options.excerptBytes {
                    excerpt += buffer.readableBytesView.prefix(options.excerptBytes - excerpt.count)
                }
            }
            let status = Int(response.status.code)
            let output = [
                "work": "http", "status_code": String(status), "body_excerpt": String(decoding: excerpt, as: UTF8.self),
                "body_bytes": String(total),
            ]
            let logs = ["\(summary) -> \(status) (\(total) bytes)"]
            guard expectation.accepts(status) else {
                return .failed(
                    "\(summary) answered \(status), not the expected status",
                    retryable: [408, 429].contains(status) || status >= 500,
                    output: output,
                    logs: logs
                )
            }
            return .succeeded(output: output, logs: logs)
        } catch {
            if Task.isCancelled { return .cancelled }
            return .failed("\(summary) failed: \(error)", retryable: true, output: ["work": "http"])
        }
    }
}
