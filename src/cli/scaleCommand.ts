// `sam scale <id> <n>` (described in commands.ts): run n instances of a service of the running
// SAM (POST /api/services/:id/scale), 0 to its scaling.max_instances, and say what it runs now.
import { withApi } from "./apiClient.ts"
import { type CommandRun, EXIT_OK, UsageError } from "./command.ts"

/** The count argument: a whole number, 0 or more (the range above 0 is SAM's to check). */
export const instanceCount = (text: string): number => {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new UsageError(`<n> must be a whole number of instances (0 or more), found "${text}"`, [
      "sam",
      "scale",
    ])
  return Number(text)
}

export const run: CommandRun = ({ values, positionals, io }) => {
  const [id, count] = positionals as [string, string]
  const instances = instanceCount(count)
  return withApi(io, values, async (client) => {
    const service = await client.services.scale({ params: { id }, payload: { instances } })
    const state =
      service.status === "running"
        ? service.ready
          ? "running and ready"
          : "running, not all ready yet"
        : service.status
    io.stdout(
      `${service.id} runs ${service.instances} ${service.instances === 1 ? "instance" : "instances"}; it is ${state}\n`,
    )
    return EXIT_OK
  })
}
