import { describe, expect, it } from "vitest"
import {
  decideScale,
  type ScalingObservation,
  type ScalingPolicy,
  type ScalingState,
  type ScalingVerdict,
} from "../../src/runtime/autoscaling/scalingDecision.ts"

// The autoscaler's rule, HPA's: desired = ceil(current × metric / target), only outside a 10%
// band, after the load stayed there for scale_up/scale_down_seconds, never within the cooldown
// after a change of the count, always within max(min, 1)..max.

const policy = (
  overrides: { [K in keyof ScalingPolicy]?: ScalingPolicy[K] | undefined } = {},
): ScalingPolicy => {
  const merged = {
    min: 1,
    max: 5,
    cpuPercent: 80,
    upMs: 10_000,
    downMs: 30_000,
    cooldownMs: 5_000,
    ...overrides,
  }
  // exactOptionalPropertyTypes: a target set to undefined means "not set", so drop the key.
  return Object.fromEntries(
    Object.entries(merged).filter(([, v]) => v !== undefined),
  ) as unknown as ScalingPolicy
}

type Sample = Partial<Omit<ScalingObservation, "now">> & { readonly at: number }

/** Feed the observations in order (state carried over); the verdict of each. */
const run = (p: ScalingPolicy, samples: ReadonlyArray<Sample>, start?: ScalingState): ScalingVerdict[] => {
  let state = start
  return samples.map(({ at, ...sample }) => {
    const instances = sample.instances ?? 1
    const observed: ScalingObservation = {
      now: at,
      instances,
      ready: sample.ready ?? instances,
      cpu: sample.cpu ?? [],
      inFlight: sample.inFlight,
    }
    const result = decideScale("api", p, observed, state)
    state = result.state
    return result.verdict
  })
}

const hold = { kind: "hold" }
const scale = (to: number, reason: string) => ({ kind: "scale", to, reason })
/** A state past its cooldown, as if the count was last changed long ago. */
const settled = (instances: number): ScalingState => ({
  instances,
  changedAt: -1_000_000,
  up: undefined,
  down: undefined,
  limited: false,
})

describe("the scaling decision", () => {
  it("scales out once the average stays above target for scale_up_seconds, to ceil(n × cpu / target)", () => {
    expect(
      run(
        policy(),
        [
          { at: 0, cpu: [183] },
          { at: 5_000, cpu: [190] },
          { at: 10_000, cpu: [183] },
        ],
        settled(1),
      ),
    ).toEqual([hold, hold, scale(3, "api: cpu 183% > 80% for 10s: 1 → 3 instances")])
  })

  it("within 10% of the target nothing happens, and leaving the band starts the window over", () => {
    expect(
      run(
        policy({ upMs: 2_000 }),
        [
          { at: 0, cpu: [120] },
          { at: 1_000, cpu: [87] }, // 1.09: inside the band
          { at: 2_000, cpu: [120] },
          { at: 3_000, cpu: [120] },
          { at: 4_000, cpu: [120] },
        ],
        settled(1),
      ),
    ).toEqual([hold, hold, hold, hold, scale(2, "api: cpu 120% > 80% for 2s: 1 → 2 instances")])
  })

  it("goes to the lowest count the whole window asked for, and never above max_instances", () => {
    expect(
      run(
        policy({ upMs: 2_000, max: 4 }),
        [
          { at: 0, instances: 2, cpu: [400, 400] }, // asks for 10, capped at 4
          { at: 1_000, instances: 2, cpu: [130, 130] }, // asks for 4
          { at: 2_000, instances: 2, cpu: [100, 100] }, // asks for 3
        ],
        settled(2),
      ),
    ).toEqual([hold, hold, scale(3, "api: cpu 100% > 80% for 2s: 2 → 3 instances")])
  })

  it("at max_instances it says so once per stretch of load, and scales no further", () => {
    expect(
      run(
        policy({ upMs: 0, max: 2 }),
        [
          { at: 0, instances: 2, cpu: [200, 200] },
          { at: 1_000, instances: 2, cpu: [200, 200] },
          { at: 2_000, instances: 2, cpu: [60, 60] }, // back in the band
          { at: 3_000, instances: 2, cpu: [200, 200] },
        ],
        settled(2),
      ),
    ).toEqual([
      { kind: "limited", reason: "api: cpu 200% > 80% for 0s, but it already runs max_instances (2)" },
      hold,
      hold,
      { kind: "limited", reason: "api: cpu 200% > 80% for 0s, but it already runs max_instances (2)" },
    ])
  })

  it("scales in when well below for scale_down_seconds, to the highest count the window asked for", () => {
    expect(
      run(
        policy({ downMs: 20_000 }),
        [
          { at: 0, instances: 4, cpu: [10, 10, 10, 10] }, // asks for 1
          { at: 10_000, instances: 4, cpu: [30, 30, 30, 30] }, // asks for 2
          { at: 19_999, instances: 4, cpu: [5, 5, 5, 5] },
          { at: 20_000, instances: 4, cpu: [5, 5, 5, 5] },
        ],
        settled(4),
      ),
    ).toEqual([hold, hold, hold, scale(2, "api: cpu 5% well below 80% for 20s: 4 → 2 instances")])
  })

  it("scales in once what the last scale_down_seconds asked for is lower: a count asked early in a long stretch ages out", () => {
    // 2 × 28/40 = 1.4 → 2: well below the target, but the count is right; then the load stops.
    // A running maximum since the stretch began would hold 2 for as long as it stayed below.
    const p = policy({ cpuPercent: 40, downMs: 4_000 })
    expect(
      run(
        p,
        [
          { at: 0, instances: 2, cpu: [28, 28] },
          { at: 2_000, instances: 2, cpu: [28, 28] },
          { at: 4_000, instances: 2, cpu: [0, 0] },
          { at: 6_000, instances: 2, cpu: [0, 0] },
          { at: 8_000, instances: 2, cpu: [0, 0] },
        ],
        settled(2),
      ),
    ).toEqual([hold, hold, hold, hold, scale(1, "api: cpu 0% well below 40% for 8s: 2 → 1 instances")])
  })

  it("never scales in below max(min_instances, 1), nor while ceil says the count is right", () => {
    expect(run(policy({ downMs: 0, min: 0 }), [{ at: 0, instances: 3, cpu: [0, 0, 0] }], settled(3))).toEqual(
      [scale(1, "api: cpu 0% well below 80% for 0s: 3 → 1 instances")],
    )
    // 3 × 70/80 = 2.6: still 3.
    expect(run(policy({ downMs: 0 }), [{ at: 0, instances: 3, cpu: [70, 70, 70] }], settled(3))).toEqual([
      hold,
    ])
  })

  it("waits out the cooldown after any change of the count, SAM's start included", () => {
    const p = policy({ upMs: 0, cooldownMs: 5_000 })
    // The first look counts as a change: nothing before 5 s.
    expect(
      run(p, [
        { at: 0, cpu: [200] },
        { at: 4_999, cpu: [200] },
        { at: 5_000, cpu: [200] },
      ]),
    ).toEqual([hold, hold, scale(3, "api: cpu 200% > 80% for 5s: 1 → 3 instances")])
    // Someone else (sam scale, a reload) changed the count from 1 to 2: its cooldown too.
    expect(
      run(
        p,
        [
          { at: 10_000, instances: 2, cpu: [200, 200] },
          { at: 15_000, instances: 2, cpu: [200, 200] },
        ],
        settled(1),
      ),
    ).toEqual([hold, scale(5, "api: cpu 200% > 80% for 5s: 2 → 5 instances")])
  })

  it("brings a count set by hand outside min..max back into it after the cooldown; 0 stays 0", () => {
    const p = policy({ min: 2, max: 4, cooldownMs: 1_000 })
    expect(
      run(p, [
        { at: 0, instances: 1, cpu: [10] },
        { at: 1_000, instances: 1, cpu: [10] },
      ]),
    ).toEqual([hold, scale(2, "api: 1 instance below min_instances 2: 1 → 2 instances")])
    expect(run(p, [{ at: 0, instances: 0 }], settled(0))).toEqual([hold])
  })

  it("leaves alone a unit none of whose instances is ready (stopped, starting, crashed)", () => {
    expect(
      run(policy({ min: 2, upMs: 0 }), [{ at: 0, instances: 1, ready: 0, cpu: [] }], settled(1)),
    ).toEqual([hold])
  })

  it("counts instances not measured yet as idle when scaling out and on target when scaling in", () => {
    // 3 instances, one measured at 200%: 200 / (3 × 80) = 0.83, no reason to scale out.
    expect(run(policy({ upMs: 0 }), [{ at: 0, instances: 3, ready: 1, cpu: [200] }], settled(3))).toEqual([
      hold,
    ])
    // One measured at 0%: (0 + 2 × 80) / (3 × 80) = 0.67 → ceil(2) = 2, not 1.
    expect(run(policy({ downMs: 0 }), [{ at: 0, instances: 3, ready: 1, cpu: [0] }], settled(3))).toEqual([
      scale(2, "api: cpu 0% well below 80% for 0s: 3 → 2 instances"),
    ])
  })

  it("with two targets, out when either is above, in only when both are well below", () => {
    const p = policy({ upMs: 0, downMs: 0, inFlight: 4 })
    expect(run(p, [{ at: 0, instances: 2, cpu: [10, 10], inFlight: [12, 8] }], settled(2))).toEqual([
      scale(5, "api: 10 in flight per instance > 4 for 0s: 2 → 5 instances"),
    ])
    expect(run(p, [{ at: 0, instances: 2, cpu: [10, 10], inFlight: [4, 4] }], settled(2))).toEqual([hold])
    expect(run(p, [{ at: 0, instances: 2, cpu: [10, 10], inFlight: [1, 0] }], settled(2))).toEqual([
      scale(1, "api: cpu 10% well below 80% for 0s: 2 → 1 instances"),
    ])
  })

  it("without a gateway target_in_flight has nothing to read, and CPU alone decides", () => {
    const p = policy({ upMs: 0, inFlight: 4, cpuPercent: 50 })
    expect(run(p, [{ at: 0, cpu: [100], inFlight: undefined }], settled(1))).toEqual([
      scale(2, "api: cpu 100% > 50% for 0s: 1 → 2 instances"),
    ])
    expect(
      run(policy({ cpuPercent: undefined, inFlight: 4, upMs: 0 }), [{ at: 0, cpu: [100] }], settled(1)),
    ).toEqual([hold])
  })
})
