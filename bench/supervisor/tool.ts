// A supervisor under test: SAM's CLI, SAM embedded, PM2 or the bench spawning the program itself.
// Each starts the same services (one program, one Node, fixed ports) and says which pid is the
// supervisor; supervisorStep.ts measures them all the same way, from outside.
import type { BenchContext } from "../harness/context.ts"

export interface ServiceSet {
  /** One service per port; each gets its port as $PORT. */
  readonly ports: ReadonlyArray<number>
  /** The service program (test/fixtures/http-service.mjs: /health, and its pid at /). */
  readonly program: string
  /** The Node every tool runs it with. */
  readonly node: string
}

export interface RunningTool {
  /** The supervisor's process: its tree without the services is its memory. None for raw spawn. */
  readonly supervisorPid: number | undefined
  /** Why the tool cannot be measured any more (it exited), if so: polling stops at once. */
  problem?(): string | undefined
  /** Stop the tool and everything it started; resolves once they are gone. */
  stop(): Promise<void>
}

export interface SupervisorTool {
  /** Short id for the table ("sam", "pm2", "raw"). */
  readonly id: string
  /** Who is measured, as the table says it. */
  readonly subject: string
  /** Once per run, before any start (PM2: installs itself). Undefined: nothing to prepare. */
  prepare?(context: BenchContext): Promise<void>
  /**
   * Start supervising `services` and return at once: cold start is measured by the bench's
   * polling from just before this call until every service answers.
   */
  start(services: ServiceSet, context: BenchContext): Promise<RunningTool>
}
