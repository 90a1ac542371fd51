// The option specs several commands share (--config, --set, --url, --json): static data, so the
// command table (commands.ts) can describe every command without loading any of them.
import type { OptionSpec } from "./command.ts"

export const configOption: OptionSpec = {
  type: "string",
  short: "c",
  placeholder: "file",
  description:
    "Main config file: .ts .mjs .js .json .yaml .yml (default: sam.config.ts, else the one sam.* file here)",
}

export const setOption: OptionSpec = {
  type: "string",
  multiple: true,
  placeholder: "path=value",
  description: "Override one value (value parsed as JSON when it is JSON), e.g. --set api.port=8080",
}

/** How commands that talk to a running SAM find it (locateSam.ts). */
export const apiOptions: Readonly<Record<string, OptionSpec>> = {
  config: { ...configOption, description: "Config of the SAM to talk to (for its API address)" },
  url: {
    type: "string",
    placeholder: "url",
    description:
      "Control API URL (default: SAM_URL, else the running SAM's api.json in SAM_STATE_DIR or the config's state dir, else api.host:api.port)",
  },
}

export const jsonOption: OptionSpec = { type: "boolean", description: "Print JSON instead of a table" }
