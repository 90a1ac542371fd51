// The plugins group: GET /api/plugins, POST /api/config/reload and every plugin's own routes
// (pluginRoutes.ts), all answered from the plugin host when SAM runs one: without it there are
// no plugins and reload is not available.
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiContext, apiActor, auditNow } from "../apiContext.ts"
import { ControlApi, Principal } from "../controlApi.ts"
import { ConfigInvalid, NotAvailable } from "../problems.ts"
import type { ReloadResult } from "../schemas.ts"
import { servePluginRoute } from "./pluginRoutes.ts"

/** What a config reload reports (src/runtime/configReload.ts ConfigReloadReport). */
interface ReloadReport {
  readonly ok: boolean
  readonly message?: string
  readonly issues?: ReadonlyArray<unknown>
}

export const pluginsLive = HttpApiBuilder.group(ControlApi, "plugins", (handlers) =>
  Effect.gen(function* () {
    const context = yield* ApiContext
    const route = ({
      params,
      request,
    }: {
      params: { name: string }
      request: Parameters<typeof servePluginRoute>[2]
    }) => servePluginRoute(context, params.name, request)
    return handlers
      .handle("list", () => Effect.succeed({ plugins: context.plugins?.list() ?? [] }))
      .handle("reload", () =>
        Effect.gen(function* () {
          const reload = context.plugins?.reloadConfig
          if (!reload)
            return yield* new NotAvailable({
              detail: context.plugins
                ? "config reload is not available: SAM was started without a config file"
                : "config reload is not available: this SAM runs without the plugin host that serves it; " +
                  "restart SAM (`sam start`) to apply config changes",
            })
          const principal = yield* Principal
          const report: ReloadReport = yield* Effect.promise(reload)
          yield* Effect.promise(() =>
            auditNow(context, {
              actor: apiActor(principal),
              action: "config.reload",
              target: "/api/config/reload",
              result: report.ok ? "ok" : "failed",
              detail: report.ok ? "applied" : (report.message ?? "the config is invalid"),
            }),
          )
          if (!report.ok)
            return yield* new ConfigInvalid({
              detail: report.message ?? "the config is invalid; nothing changed",
              ok: false,
              issues: report.issues ?? [],
            })
          return report as typeof ReloadResult.Type
        }),
      )
      .handleRaw("routeGET", route)
      .handleRaw("routePOST", route)
      .handleRaw("routePUT", route)
      .handleRaw("routePATCH", route)
      .handleRaw("routeDELETE", route)
  }),
)
