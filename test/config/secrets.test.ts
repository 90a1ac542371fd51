// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${env.X} / ${vault.x} references on purpose
import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { ConfigError, VaultError } from "../../src/config/errors.ts"
import { loadConfig } from "../../src/config/load.ts"
import { configToJson, configToYaml } from "../../src/config/printConfig.ts"
import { maskDeep, maskText } from "../../src/config/secrets.ts"
import { openVault } from "../../src/config/vault.ts"
import { tempDir, writeFiles } from "./tempDir.ts"

const SECRET = "sk-test-5f2b9c71d0"

const agentWith = (environment: string) => `agents:\n  a:\n    path: /a\n    environment: ${environment}\n`

const loadYaml = async (
  yaml: string,
  env: Record<string, string> = {},
  extra: { secrets?: "strict" | "lenient" } = {},
) => {
  const dir = await tempDir({ "sam.yaml": yaml })
  return loadConfig({ cwd: dir, configPath: "sam.yaml", env, ...extra })
}

const errorOf = async (promise: Promise<unknown>): Promise<ConfigError> => {
  const error = await promise.catch((e: unknown) => e)
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`)
  return error
}

describe("${env.NAME} references", () => {
  it("resolve anywhere in a string and are collected as secrets", async () => {
    const loaded = await loadYaml(agentWith('{ KEY: "${env.API_KEY}", AUTH: "Bearer ${env.API_KEY}" }'), {
      API_KEY: SECRET,
    })
    expect(loaded.config.agents.a!.environment).toEqual({ KEY: SECRET, AUTH: `Bearer ${SECRET}` })
    expect([...loaded.secretValues]).toEqual([SECRET])
  })

  it("a missing variable is an error naming the path and the variable", async () => {
    const error = await errorOf(loadYaml(agentWith('{ KEY: "${env.MISSING_KEY}" }')))
    expect(error.format()).toBe(
      "sam.yaml:4:25 agents.a.environment.KEY: environment variable MISSING_KEY is not set (referenced as ${env.MISSING_KEY})",
    )
  })

  it("never puts a secret value into an error message", async () => {
    const error = await errorOf(loadYaml("api:\n  port: ${env.PORT_SECRET}\n", { PORT_SECRET: SECRET }))
    expect(error.format()).toBe('sam.yaml:2:9 api.port: expected a number, found "***"')
    expect(error.message).not.toContain(SECRET)
  })

  it("lenient loading (validate, config print) turns missing secrets into warnings and keeps the reference", async () => {
    const loaded = await loadYaml(agentWith('{ KEY: "${env.MISSING_KEY}" }'), {}, { secrets: "lenient" })
    expect(loaded.config.agents.a!.environment.KEY).toBe("${env.MISSING_KEY}")
    expect(loaded.warnings[0]).toMatch(
      /^agents\.a\.environment\.KEY: environment variable MISSING_KEY is not set/,
    )
  })

  it("$${ writes a literal ${, and an unknown reference kind is an error", async () => {
    const loaded = await loadYaml(agentWith('{ LITERAL: "$${env.HOME}" }'))
    expect(loaded.config.agents.a!.environment.LITERAL).toBe("${env.HOME}")
    const error = await errorOf(loadYaml(agentWith('{ X: "${secret.x}" }')))
    expect(error.format()).toContain("agents.a.environment.X: unknown reference ${secret.x}")
  })

  it("an unterminated ${ and a vault name no secret can have are errors, once each, lenient or not", async () => {
    const yaml = agentWith('{ A: "${env.HOME", B: "${vault.bad name}", C: "$${sam.port", D: "x${" }')
    for (const secrets of ["strict", "lenient"] as const) {
      const error = await errorOf(loadYaml(yaml, { HOME: "/home/x" }, { secrets }))
      expect(error.format().split("\n")).toEqual([
        'sam.yaml:4:23 agents.a.environment.A: unterminated reference "${env.HOME": close it with } (or write $${ for a literal ${)',
        'sam.yaml:4:40 agents.a.environment.B: ${vault.bad name}: "bad name" is no secret name (letters, digits, _ . / -, as `sam secrets set` takes)',
        'sam.yaml:4:82 agents.a.environment.D: unterminated reference "${": close it with } (or write $${ for a literal ${)',
      ])
    }
  })
})

describe("the vault", () => {
  const locationIn = (dir: string) => ({
    path: join(dir, ".sam", "vault.json"),
    keyFile: join(dir, ".sam", "vault.key"),
  })

  it("stores entries AES-256-GCM encrypted with a fresh IV each, and creates a 0600 key file", async () => {
    const dir = await tempDir()
    const vault = await openVault(locationIn(dir), {}, { create: true })
    await vault.set("a", SECRET)
    await vault.set("b", SECRET)
    expect(vault.createdKeyFile).toBe(true)
    expect((await stat(locationIn(dir).keyFile)).mode & 0o777).toBe(0o600)
    expect((await stat(locationIn(dir).path)).mode & 0o777).toBe(0o600)
    const text = await readFile(locationIn(dir).path, "utf8")
    expect(text).not.toContain(SECRET)
    const file = JSON.parse(text) as { cipher: string; entries: Record<string, { iv: string }> }
    expect(file.cipher).toBe("aes-256-gcm")
    expect(Buffer.from(file.entries.a!.iv, "base64")).toHaveLength(12)
    expect(file.entries.a!.iv).not.toBe(file.entries.b!.iv)

    const reopened = await openVault(locationIn(dir), {})
    expect(reopened.keys()).toEqual(["a", "b"])
    expect(reopened.get("a")).toBe(SECRET)
    expect(await reopened.remove("a")).toBe(true)
    expect((await openVault(locationIn(dir), {})).keys()).toEqual(["b"])
  })

  it("resolves ${vault.key} at load time", async () => {
    const dir = await tempDir({ "sam.yaml": agentWith('{ OPENAI_API_KEY: "${vault.openai_key}" }') })
    await (await openVault(locationIn(dir), {}, { create: true })).set("openai_key", SECRET)
    const loaded = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} })
    expect(loaded.config.agents.a!.environment.OPENAI_API_KEY).toBe(SECRET)
    expect(loaded.secretValues.has(SECRET)).toBe(true)
  })

  it("uses SAM_VAULT_KEY instead of a key file, and refuses a wrong key", async () => {
    const dir = await tempDir({ "sam.yaml": agentWith('{ K: "${vault.k}" }') })
    await (await openVault(locationIn(dir), { SAM_VAULT_KEY: "correct horse" }, { create: true })).set(
      "k",
      SECRET,
    )
    const ok = await loadConfig({ cwd: dir, configPath: "sam.yaml", env: { SAM_VAULT_KEY: "correct horse" } })
    expect(ok.config.agents.a!.environment.K).toBe(SECRET)
    const error = await errorOf(
      loadConfig({ cwd: dir, configPath: "sam.yaml", env: { SAM_VAULT_KEY: "wrong" } }),
    )
    expect(error.format()).toContain("the vault key (SAM_VAULT_KEY) does not open vault file")
  })

  it("refuses a key file that others can read, saying how to fix it", async () => {
    const dir = await tempDir({ "sam.yaml": agentWith('{ K: "${vault.k}" }') })
    await (await openVault(locationIn(dir), {}, { create: true })).set("k", SECRET)
    await writeFiles(dir, { ".sam/vault.key": await readFile(locationIn(dir).keyFile, "utf8") }, 0o644)
    await expect(openVault(locationIn(dir), {})).rejects.toThrow(VaultError)
    const error = await errorOf(loadConfig({ cwd: dir, configPath: "sam.yaml", env: {} }))
    expect(error.format()).toContain(
      `has mode 0644; it must be readable by its owner only (chmod 600 ${locationIn(dir).keyFile})`,
    )
  })

  it("a missing vault entry is an error naming the path and the fix", async () => {
    const error = await errorOf(loadYaml(agentWith('{ K: "${vault.nope}" }')))
    expect(error.format()).toMatch(
      /^sam\.yaml:4:23 agents\.a\.environment\.K: secret "nope" is not in the vault .*sam secrets set nope/,
    )
  })
})

describe("masking", () => {
  it("replaces every occurrence of every secret, longest first", () => {
    expect(maskText("a=abc b=abcdef", new Set(["abc", "abcdef"]))).toBe("a=*** b=***")
    expect(maskDeep({ x: ["abc", 1], y: "none" }, new Set(["abc"]))).toEqual({ x: ["***", 1], y: "none" })
  })

  it("config print output never contains a resolved secret", async () => {
    const loaded = await loadYaml(agentWith('{ KEY: "${env.API_KEY}" }'), { API_KEY: SECRET })
    const yaml = configToYaml(loaded)
    expect(yaml).toContain('KEY: "***" # sam.yaml')
    expect(yaml).not.toContain(SECRET)
    expect(configToJson(loaded)).not.toContain(SECRET)
  })

  it("config print shows API tokens as *** even when written into the file", async () => {
    const token = "typed-into-the-file-0123456789"
    const loaded = await loadYaml(`security:\n  api_tokens:\n    ops: { token: ${token}, role: admin }\n`)
    expect(configToYaml(loaded)).toContain('token: "***" # sam.yaml')
    expect(configToYaml(loaded)).not.toContain(token)
    expect(configToJson(loaded)).not.toContain(token)
  })
})
