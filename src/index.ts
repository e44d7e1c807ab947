/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"

/**
 * @since 0.1.0
 */
export * as DownloadUrl from "./DownloadUrl.js"

/**
 * @since 0.2.0
 */
export * as Retry from "./Retry.js"

/**
 * @since 0.1.0
 */
export * as Task from "./Task.js"

/**
 * @since 0.1.0
 */
export * as TaskId from "./TaskId.js"

/**
 * @since 0.2.0
 */
export * as TaskResults from "./TaskResults.js"

/**
 * @since 0.2.0
 */
export * as TaskResultsError from "./TaskResultsError.js"

/**
 * @since 0.1.0
 */
export * as TextRevealClient from "./TextRevealClient.js"

/**
 * @since 0.1.0
 */
export * as TextRevealError from "./TextRevealError.js"
