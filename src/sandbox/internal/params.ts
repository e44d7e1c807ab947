/**
 * The path and query parameters of the API routes as schemas, and their decode failures as the API's field
 * errors (`{ field, reason, message }`): each check carries the reason and message the API would send.
 *
 * @internal
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"
import * as Task from "../../Task.js"
import { TaskId } from "../../TaskId.js"
import type { FieldProblem } from "./responses.js"

const FieldErrorId = Symbol.for("effect-textreveal/sandbox/FieldError")

/** Annotations of a check: the reason and message of the field error it gives. */
const fieldError = (reason: string, message: string) => ({
  [FieldErrorId]: { reason, message },
  message: () => message
})

const own = (ast: AST.AST): { readonly reason: string; readonly message: string } | undefined =>
  ast.annotations[FieldErrorId] as { readonly reason: string; readonly message: string } | undefined

/** The field errors of a failed decode: the innermost check that names one, else `invalid`. */
const collect = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>,
  found: { readonly reason: string; readonly message: string } | undefined
): Array<FieldProblem> => {
  switch (issue._tag) {
    case "Pointer":
      return collect(issue.issue, [...path, ...(Array.isArray(issue.path) ? issue.path : [issue.path])], found)
    case "Refinement":
      // A failure of the refined schema itself belongs to that schema's checks, not to this one.
      return collect(issue.issue, path, issue.kind === "Predicate" ? own(issue.ast) ?? found : found)
    case "Transformation":
      return collect(issue.issue, path, own(issue.ast) ?? found)
    case "Composite": {
      const issues = Array.isArray(issue.issues) ? issue.issues : [issue.issues as ParseResult.ParseIssue]
      return issues.flatMap((i) => collect(i, path, own(issue.ast) ?? found))
    }
    default: {
      // The `undefined` alternative of an optional parameter says nothing about the value sent.
      if (issue._tag === "Type" && issue.ast._tag === "UndefinedKeyword") return []
      const check = (issue._tag === "Unexpected" ? undefined : own(issue.ast as AST.AST)) ?? found
      return [{
        // The parameter, as the API names fields: `fields`, not `fields.1`.
        field: String(path[0] ?? ""),
        reason: check?.reason ?? "invalid",
        message: check?.message ?? issue.message ?? "Invalid value"
      }]
    }
  }
}

/**
 * The field errors of a failed decode of parameters.
 *
 * @internal
 */
export const fieldErrors = (error: ParseResult.ParseError): ReadonlyArray<FieldProblem> => {
  const all = collect(error.issue, [], undefined)
  // One error per field: the first check that failed.
  return all.filter((problem, i) => all.findIndex((p) => p.field === problem.field) === i)
}

// ---- path

/**
 * The `task_id` path parameter: a UUID in any case, normalised to lower case.
 *
 * @internal
 */
export const TaskPath = Schema.Struct({
  task_id: Schema.compose(Schema.Lowercase, TaskId, { strict: false }).annotations(
    fieldError("invalid_string", "Invalid uuid")
  )
})

// ---- query of GET /tasks

const wholeNumberText = Schema.String.pipe(
  Schema.pattern(/^-?\d{1,15}$/, fieldError("invalid_type", "Expected number, received string")),
  Schema.compose(Schema.NumberFromString)
)

const Size = wholeNumberText.pipe(
  Schema.filter((n) => n >= 1, fieldError("too_small", "Number must be greater than or equal to 1")),
  Schema.filter((n) => n <= 1000, fieldError("too_big", "Number must be less than or equal to 1000"))
)

/** One value or several (a repeated parameter), split on commas. */
const list = <A, I extends string>(item: Schema.Schema<A, I>) =>
  Schema.Union(Schema.String, Schema.Array(Schema.String)).pipe(
    Schema.transform(Schema.Array(Schema.String), {
      strict: true,
      decode: (value) =>
        (typeof value === "string" ? [value] : value).flatMap((v) => v.split(",")).filter((v) => v !== ""),
      encode: (values) => values
    }),
    Schema.compose(Schema.Array(item))
  )

const Field = Task.TaskField.annotations(fieldError("invalid_enum_value", "Unknown field"))

const OrderKey = Schema.Literal(
  "created_at:asc",
  "created_at:desc",
  "completed_at:asc",
  "completed_at:desc",
  "status:asc",
  "status:desc"
).annotations(
  fieldError("invalid_enum_value", "Expected field:direction (created_at, completed_at or status; asc or desc)")
)

/**
 * The cursor of the next page: the sequence number of the last task of the previous one.
 *
 * @internal
 */
export const Cursor = Schema.String.pipe(
  Schema.pattern(/^[1-9]\d{0,8}$/, fieldError("invalid_string", "Invalid cursor")),
  Schema.compose(Schema.NumberFromString)
)

/**
 * The query of `GET /tasks`.
 *
 * @internal
 */
export const ListQuery = Schema.Struct({
  size: Schema.optional(Size),
  search_after: Schema.optional(Cursor),
  fields: Schema.optional(list(Field)),
  order: Schema.optional(
    list(OrderKey).pipe(
      Schema.filter((keys) => keys.length >= 1 && keys.length <= 3, fieldError("invalid", "Expected 1 to 3 sort keys"))
    )
  )
})
