// Paths the control API's front door (apiServer.ts) knows before the HttpApi is loaded: where
// metrics are scraped and where the OpenAPI document is. controlApi.ts declares its endpoints on them.
export const metricsRoute = "/metrics"

export const openApiPath = "/api/openapi.json"
