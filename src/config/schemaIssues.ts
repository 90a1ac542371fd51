// Turns an Effect Schema issue tree into flat IssueDrafts with "expected X, found Y" wording and a
// did-you-mean hint for unknown keys. Found values are read from the input, never from the issue.

import type * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import { type ConfigPath, describeValue, getIn } from "./configPath.ts"
import type { IssueDraft } from "./issueDraft.ts"
import { peerKeyHint } from "./peerKeys.ts"
import { suggestionSuffix } from "./suggest.ts"

const formatDefault = SchemaIssue.makeFormatterDefault()

const article = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`)

/** A reader's name for the values an AST accepts: `"a" | "b" or an object`. */
export const describeAst = (ast: SchemaAST.AST): string => {
  const literals: Array<string> = []
  const others: Array<string> = []
  const visit = (node: SchemaAST.AST): void => {
    switch (node._tag) {
      case "Union":
        for (const member of node.types) visit(member)
        return
      case "Literal":
        literals.push(JSON.stringify(node.literal))
        return
      case "Objects":
        others.push(
          node.propertySignatures.length === 0 && node.indexSignatures.length > 0 ? "a map" : "an object",
        )
        return
      case "Arrays":
        others.push(node.rest.length > 0 ? "a list" : "a tuple")
        return
      case "String":
      case "Number":
      case "Boolean":
        others.push(article(node._tag.toLowerCase()))
        return
      case "Null":
        others.push("null")
        return
      default: {
        const text = formatDefault(new SchemaIssue.InvalidType(node))
        others.push(text.replace(/^Expected /, ""))
      }
    }
  }
  visit(ast)
  const groups = literals.length > 0 ? [literals.join(" | "), ...others] : others
  return [...new Set(groups)].join(" or ")
}

/** The string literals an AST accepts (a union of them, or one). */
const stringLiterals = (ast: SchemaAST.AST): Array<string> => {
  if (ast._tag === "Literal") return typeof ast.literal === "string" ? [ast.literal] : []
  return ast._tag === "Union" ? ast.types.flatMap(stringLiterals) : []
}

const knownKeys = (ast: SchemaAST.AST): Array<string> =>
  ast._tag === "Objects"
    ? ast.propertySignatures.map((p) => p.name).filter((n): n is string => typeof n === "string")
    : []

// An AnyOf whose members all failed on the value's type (not deeper inside it) is one leaf.
const isShallow = (issue: SchemaIssue.Issue): boolean =>
  issue._tag === "InvalidType" || (issue._tag === "AnyOf" && issue.issues.every(isShallow))

/** Flattens `issue` (from decoding `input`) into drafts, one per problem. */
export const schemaIssues = (issue: SchemaIssue.Issue, input: unknown): Array<IssueDraft> => {
  const out: Array<IssueDraft> = []
  const found = (path: ConfigPath, ast?: SchemaAST.AST): string => {
    const value = getIn(input, path)
    // A misspelt choice (`mode: proces`, `runtime: sandboxed`) gets the choice it is one edit (or
    // a prefix) away from; a different word (`runtime: docker`) gets none.
    const hint =
      typeof value === "string" && ast !== undefined
        ? suggestionSuffix(value, stringLiterals(ast), '"', 1)
        : ""
    return `${describeValue(value)}${hint}`
  }
  const walk = (node: SchemaIssue.Issue, path: ConfigPath): void => {
    switch (node._tag) {
      case "Pointer":
        walk(node.issue, [...path, ...node.path.map((k) => (typeof k === "symbol" ? String(k) : k))])
        return
      case "Composite":
        for (const child of node.issues) walk(child, path)
        return
      case "Encoding":
        walk(node.issue, path)
        return
      case "AnyOf":
        if (node.issues.every(isShallow)) {
          out.push({
            path,
            message: "invalid value",
            expected: describeAst(node.ast),
            found: found(path, node.ast),
          })
        } else {
          for (const child of node.issues) if (!isShallow(child)) walk(child, path)
        }
        return
      case "InvalidType":
        out.push({
          path,
          message: "invalid type",
          expected: describeAst(node.ast),
          found: found(path, node.ast),
        })
        return
      case "MissingKey":
        out.push({ path, message: "required but missing" })
        return
      case "UnexpectedKey": {
        const key = String(path[path.length - 1] ?? "")
        out.push({
          path,
          atKey: true,
          message: `unknown key ${JSON.stringify(key)}${peerKeyHint(path) || suggestionSuffix(key, knownKeys(node.ast))}`,
        })
        return
      }
      default: {
        // Filter / InvalidValue / OneOf / Forbidden: the default text is "Expected <constraint>".
        const text = formatDefault(node).split("\n")[0] ?? "invalid value"
        if (text.startsWith("Expected ")) {
          out.push({ path, message: text, expected: text.slice("Expected ".length), found: found(path) })
        } else out.push({ path, message: text })
      }
    }
  }
  walk(issue, [])
  // Several failed checks on one value ("an integer", "at least 1") read best as the first alone.
  const seen = new Set<string>()
  return out.filter((draft) => {
    const key = JSON.stringify(draft.path)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
