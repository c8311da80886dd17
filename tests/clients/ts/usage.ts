// Compiled with `tsc --strict` against the types openapi-typescript makes of
// the served schema (`make typescript`): a browser client's calls, typed.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

type LoginBody = Json<paths["/api/v1/auth/login"]["post"]["requestBody"]>;
type LoginOk = Json<paths["/api/v1/auth/login"]["post"]["responses"][200]>;
type LoginForbidden = Json<paths["/api/v1/auth/login"]["post"]["responses"][403]>;
type RefreshRefused = Json<paths["/api/v1/auth/token/refresh"]["post"]["responses"][401]>;
type Config = Json<paths["/api/v1/config"]["get"]["responses"][200]>;
type Export = Json<paths["/api/v1/auth/account/export"]["get"]["responses"][200]>;
type Revoked = Json<paths["/api/v1/auth/sessions/{session_id}"]["delete"]["responses"][200]>;

export const byEmail: LoginBody = { email: "ada@example.com", password: "Correct-Horse-9!" };
export const byPhone: LoginBody = { phone: "+919876543210", password: "Correct-Horse-9!" };

export function userId(answer: LoginOk): number {
  return answer.data.user.id;
}

export function whereTheCodeWent(answer: LoginForbidden): string | undefined {
  if (answer.code === "account_not_verified") {
    return answer.data?.verification.destination;
  }
  return undefined;
}

export function mustSignInAgain(answer: RefreshRefused): boolean {
  switch (answer.code) {
    case "token_reused":
    case "token_invalid":
      return true;
  }
}

// @ts-expect-error: the refresh endpoint documents no such code
export const notACode: RefreshRefused["code"] = "otp_invalid";

export function codeLength(config: Config): number {
  return config.data.code.length;
}

export function secondFactors(config: Config): Schemas["SecondFactorsEnum"][] {
  return config.data.second_factors;
}

export function exportedSessions(document: Export): string[] {
  return document.data.sessions.map((session) => session.id);
}

export function revokedCount(answer: Revoked): number {
  return answer.data.revoked;
}
