// What a request's Content-Type names, for the bodies SAM reads outside the HttpApi's own decoding
// (a plugin route's body, the token form): media types are case-insensitive and may carry
// parameters (RFC 9110 8.3.1), so `Application/JSON; charset=utf-8` is JSON.

/** The type/subtype of a Content-Type header, lowercased, without parameters ("" for none). */
export const mediaTypeOf = (header: string | undefined): string =>
  (header ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? ""

/** application/json, or any type with the +json structured suffix (RFC 6839: application/problem+json). */
export const isJsonMediaType = (header: string | undefined): boolean => {
  const type = mediaTypeOf(header)
  return type === "application/json" || (type.includes("/") && type.endsWith("+json"))
}
