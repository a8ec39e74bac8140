import Foundation

/// A small HTTP server written in Python (the standard library's `http.server`), run as a real
/// process on a real socket for the duration of a test.
final class PythonServer: Sendable {
    let port: Int
    private let process: Process
    private let directory: URL

    /// Starts `script`, which must bind 127.0.0.1 and write the port it got to the file named by
    /// its first argument; `arguments` follow that one.
    init(script: String, arguments: [String] = []) async throws {
        directory = try makeTemporaryDirectory()
        let scriptURL = directory.appendingPathComponent("server.py")
        let portURL = directory.appendingPathComponent("port")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, portURL.path] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var found: Int?
        for _ in 0..<500 {
            if let text = try? String(contentsOf: portURL, encoding: .utf8), let port = Int(text) {
                found = port
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let found else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: portURL.path])
        }
        port = found
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Kills the server (SIGKILL: a child of the test runner may inherit an ignored SIGTERM).
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Answers `/status/<code>` with that status, echoes `POST /echo`, serves `/hello`.
let echoServerScript = #"""
    import http.server, sys

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, code, body, content_type="text/plain"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/hello":
                self.answer(200, "hello from python")
            elif self.path.startswith("/status/"):
                self.answer(int(self.path.split("/")[2]), "status page")
            else:
                self.answer(404, "no such page")

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            self.answer(200, self.headers.get("Content-Type", "") + "|" + body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()
    """#
