import Testing

@testable import BinanceWebSocketAPI

/// In-flight bookkeeping without sockets: an answer that beats its caller, deadlines, one
/// outcome per request.
@Suite struct PendingRequestsTests {
    static func envelope(_ id: String) -> ResponseEnvelope {
        ResponseEnvelope(id: id, status: 200, result: nil, error: nil, rateLimit: nil)
    }

    @Test func anAnswerThatArrivesBeforeTheCallerWaitsIsKept() async throws {
        var pending = PendingRequests()
        pending.add(id: "1", method: "session.status", deadline: .now + .seconds(10))
        #expect(pending.finish(id: "1", .success(Self.envelope("1"))) == "session.status")
        #expect(pending.finish(id: "1", .failure(.cancelled)) == nil, "settled once")
        let answer = try await withCheckedThrowingContinuation { pending.wait(id: "1", $0) }
        #expect(answer.id == "1")
        #expect(pending.unanswered.isEmpty)
    }

    @Test func overdueRequestsTimeOutAndTheEarliestRemainingDeadlineIsReported() async {
        var pending = PendingRequests()
        let start = ContinuousClock.now
        pending.add(id: "1", method: "account.status", deadline: start + .seconds(1))
        pending.add(id: "2", method: "v2/account.position", deadline: start + .seconds(5))
        #expect(pending.expire(now: start) == start + .seconds(1))
        #expect(pending.expire(now: start + .seconds(2)) == start + .seconds(5))
        #expect(pending.unanswered.map(\.id) == ["2"])
        do {
            _ = try await withCheckedThrowingContinuation { pending.wait(id: "1", $0) }
            Issue.record("expected a timeout")
        } catch let error as BinanceClientError {
            if case .timeout(let method) = error {
                #expect(method == "account.status")
            } else {
                Issue.record("got \(error)")
            }
        } catch {
            Issue.record("got \(error)")
        }
    }
}
