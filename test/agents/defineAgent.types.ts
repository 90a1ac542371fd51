// Type-level tests of the agent SDK, checked by `npm run check` (tsc over test/): an
// `@ts-expect-error` that no longer finds its error fails the check, as does a good line that errs.
// A capability's `input` schema types its handler's input; a plain handler's input is unknown.
import {
  type AgentDefinition,
  type CallOptions,
  CapabilityError,
  defineAgent,
  type HealthReport,
  type StandardSchemaV1,
} from "../../src/agent/index.ts"

declare const TextInput: StandardSchemaV1<unknown, { text: string; times?: number }>

export const typed = defineAgent({
  capabilities: {
    // The schema's output type reaches the handler: a good access compiles...
    shout: { input: TextInput, handler: (input) => input.text.toUpperCase().repeat(input.times ?? 1) },
    // ...and a wrong one does not.
    // @ts-expect-error: 'nonexistent' does not exist on { text: string; times?: number }
    broken: { input: TextInput, handler: (input) => input.nonexistent.deep.toFixed() },
    // A plain handler's input is unknown, not any...
    // @ts-expect-error: 'input' is of type 'unknown'
    unchecked: (input) => input.text,
    // ...unless the handler says what it takes (its own claim), alone or beside ctx.
    echo: (input: { text: string }) => ({ text: input.text }),
    count: async function* (input: { to: number }, ctx) {
      for (let i = 1; i <= input.to && !ctx.signal.aborted; i++) yield i
    },
    // ctx.invokeStream is an async iterable of unknown chunks, and a handler may stream it on.
    relay_stream: async function* (_input: unknown, ctx) {
      for await (const chunk of ctx.invokeStream("count", { to: 3 }, { signal: ctx.signal })) {
        const typed: unknown = chunk
        yield typed
      }
    },
    // A schema-less definition is a plain handler with a description.
    described: { description: "says hi", handler: (input) => typeof input },
    relay: async (_input: unknown, ctx) => {
      try {
        return await ctx.invoke("shout", { text: "x" }, { timeoutMs: undefined, signal: ctx.signal })
      } catch (error) {
        // ctx.invoke's failure, as sam.invoke's: reason and code are typed.
        if (error instanceof CapabilityError && error.reason === "failed") return error.code ?? "no code"
        throw error
      }
    },
  },
  // exactOptionalPropertyTypes: an optional field takes an explicit undefined.
  health: (): HealthReport => ({ ok: true, detail: undefined }),
})

// What defineAgent returns is an AgentDefinition (a module's default export).
export const asDefinition: AgentDefinition = typed
export const noOptions: CallOptions = { timeoutMs: undefined, signal: undefined }
