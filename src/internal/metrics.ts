import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * Which request a metric counts: an API endpoint (`other` for a request made through the client's `client`),
 * the token endpoint, or a file of the file host.
 *
 * @internal
 */
export type Endpoint = "download" | "status" | "tasks" | "export" | "other" | "token" | "file"

/**
 * Why a request was sent again.
 *
 * @internal
 */
export type RetryReason = "rate_limited" | "transient" | "renewal" | "url_refresh" | "resume"

/** @internal */
export const requests = Metric.counter("textreveal_requests_total", {
  description: "Requests sent, by endpoint and by HTTP status (or transport / timeout)",
  incremental: true
})

/** @internal */
export const retries = Metric.counter("textreveal_retries_total", {
  description: "Requests sent again, by endpoint and reason",
  incremental: true
})

/** @internal */
export const retryBudgetExhausted = Metric.counter("textreveal_retry_budget_exhausted_total", {
  description: "Retries refused because the client's retry budget was empty",
  incremental: true
})

/** @internal */
export const requestDuration = Metric.histogram(
  "textreveal_request_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 17 }),
  "Time from sending a request to the last byte of its answer, by endpoint"
)

/** @internal */
export const bytesDownloaded = Metric.counter("textreveal_bytes_downloaded_total", {
  description: "Bytes of exported files received",
  incremental: true
})

/** Each tagged metric is built once (a key's hash is computed when it is made), then reused by every request. */
const requestMetrics = new Map<string, readonly [Metric.Metric.Counter<number>, Metric.Metric.Histogram<number>]>()

const requestMetricsOf = (endpoint: Endpoint, status: number | "transport" | "timeout") => {
  const key = `${endpoint} ${status}`
  let metrics = requestMetrics.get(key)
  if (metrics === undefined) {
    metrics = [
      Metric.tagged(Metric.tagged(requests, "endpoint", endpoint), "status", String(status)),
      Metric.tagged(requestDuration, "endpoint", endpoint)
    ]
    // Statuses come from servers: past a few hundred distinct ones, tagged metrics are built per request.
    if (requestMetrics.size < 512) requestMetrics.set(key, metrics)
  }
  return metrics
}

/**
 * Counts one request that ended with `status` (or without an answer) after `millis`.
 *
 * @internal
 */
export const recordRequest = (endpoint: Endpoint, status: number | "transport" | "timeout", millis: number) => {
  const [counter, duration] = requestMetricsOf(endpoint, status)
  return Effect.zipRight(Metric.increment(counter), Metric.update(duration, millis))
}

/**
 * Counts one retry.
 *
 * @internal
 */
export const recordRetry = (endpoint: Endpoint, reason: RetryReason) =>
  Metric.increment(Metric.tagged(Metric.tagged(retries, "endpoint", endpoint), "reason", reason))
