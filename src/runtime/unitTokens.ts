// Credentials SAM gives each unit it runs (SAM_GATEWAY_TOKEN): `samu_<unit id>.<HMAC of the id>`
// under a key made fresh for each SAM, so a token names its unit and cannot be forged or outlive
// its SAM. The gateway (src/gateway/gatewayAuth.ts) verifies one and checks the unit's depends_on.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"

const PREFIX = "samu_"

export class UnitTokens {
  private readonly key: Buffer

  constructor(key: Buffer = randomBytes(32)) {
    this.key = key
  }

  private mac(unit: string): string {
    return createHmac("sha256", this.key).update(unit, "utf8").digest("base64url")
  }

  /** The token of unit `unit` (the same for every instance and incarnation while SAM runs). */
  issue(unit: string): string {
    return `${PREFIX}${unit}.${this.mac(unit)}`
  }

  /** Whether `token` looks like a unit token at all (so it is never taken for an API token). */
  static isUnitToken(token: string): boolean {
    return token.startsWith(PREFIX)
  }

  /** The unit `token` was issued to, or undefined when it is no valid token of this SAM. */
  verify(token: string): string | undefined {
    if (!token.startsWith(PREFIX)) return undefined
    const dot = token.lastIndexOf(".")
    if (dot <= PREFIX.length) return undefined
    const unit = token.slice(PREFIX.length, dot)
    const presented = Buffer.from(token.slice(dot + 1), "utf8")
    const expected = Buffer.from(this.mac(unit), "utf8")
    return presented.length === expected.length && timingSafeEqual(presented, expected) ? unit : undefined
  }
}
