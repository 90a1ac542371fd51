// The probe kinds SAM ships with; plugins add more to the same registry.
import { execProbe } from "./execProbe.ts"
import { httpProbe } from "./httpProbe.ts"
import { logProbe } from "./logProbe.ts"
import { ProbeRegistry } from "./probe.ts"
import { tcpProbe } from "./tcpProbe.ts"

export const builtinProbes = (): ProbeRegistry => {
  const registry = new ProbeRegistry()
  registry.register("http", httpProbe)
  registry.register("tcp", tcpProbe)
  registry.register("exec", execProbe)
  registry.register("log", logProbe)
  return registry
}
