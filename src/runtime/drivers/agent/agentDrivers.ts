// The four agent runtimes, registered in `sam.drivers` as `agent:<runtime>` (see driverName in
// instanceRunner.ts). `calls` routes the capability calls agents make through SAM; `sandbox` says
// how the `sandbox` runtime walls agents in (asked when the first one starts).
import type { SandboxChoice } from "../../sandboxChoice.ts"
import type { Driver } from "../driver.ts"
import type { CallHost } from "./agentConnection.ts"
import { childAgentDriver } from "./childAgentDriver.ts"
import { inlineAgentDriver } from "./inlineAgentDriver.ts"
import { workerAgentDriver } from "./workerAgentDriver.ts"

export const agentDrivers = (
  calls: CallHost | undefined,
  sandbox?: () => SandboxChoice,
): ReadonlyArray<readonly [string, Driver]> =>
  [
    childAgentDriver("sandbox", calls, sandbox),
    childAgentDriver("process", calls),
    workerAgentDriver(calls),
    inlineAgentDriver(calls),
  ].map((driver) => [driver.name, driver] as const)
