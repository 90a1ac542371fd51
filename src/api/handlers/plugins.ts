// GET /api/plugins and POST /api/config/reload when no plugin host serves them (apiServer.ts
// hands these paths to the plugin host first): no plugins, and reload is not available.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ControlApi } from "../controlApi.ts"
import { NotAvailable } from "../problems.ts"

export const pluginsLive = HttpApiBuilder.group(ControlApi, "plugins", (handlers) =>
  handlers.handleAll({
    list: () => Effect.succeed({ plugins: [] }),
    reload: () =>
      Effect.fail(
        new NotAvailable({
          detail:
            "config reload is not available: this SAM runs without the plugin host that serves it; " +
            "restart SAM (`sam start`) to apply config changes",
        }),
      ),
  }),
)
