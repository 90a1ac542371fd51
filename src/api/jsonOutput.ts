// What an agent returned, as the JSON the API answers with. JSON.stringify's rules, as the
// sandbox and process runtimes' IPC already apply them: an undefined result is null, undefined
// fields are left out, toJSON is used. A value JSON cannot hold (a BigInt, a cycle) is the
// agent's failure (502), said in words, rather than a 500 from the response encoder.
import { CapabilityError } from "../runtime/capabilities/capabilityRouter.ts"

export const asJsonOutput = (value: unknown, capability: string, from: string): unknown => {
  if (value === undefined) return null
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw new CapabilityError({
      capability,
      reason: "failed",
      message: `${from} answered "${capability}" with a value JSON cannot hold (${error instanceof Error ? error.message : String(error)}): return objects, arrays, strings, numbers, booleans or null`,
    })
  }
  return text === undefined ? null : JSON.parse(text)
}
