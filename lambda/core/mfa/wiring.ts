import { AuditRecorder, TvmService, type TvmServiceDependencies } from '../tvm-service';
import { MfaService } from './mfa-service';
import type { ChallengeStore, FactorStore } from './ports';
import { SecondFactorGate } from './second-factor';

/** The TVM's services with second factors wired in. */
export interface SecondFactorServices {
  readonly service: TvmService;
  readonly gate: SecondFactorGate;
  readonly mfa: MfaService;
}

/** Builds TvmService with the second-factor gate, and the MfaService beside it (runtime and tests alike). */
export function withSecondFactors(
  deps: Omit<TvmServiceDependencies, 'secondFactor'> & { readonly factors: FactorStore; readonly challenges: ChallengeStore },
): SecondFactorServices {
  const auditor = new AuditRecorder(deps);
  const relyingParty = { id: deps.config.passkeyRpId, origins: deps.config.passkeyOrigins };
  const gate = new SecondFactorGate({ factors: deps.factors, challenges: deps.challenges, clock: deps.clock, config: deps.config, auditor, relyingParty });
  const service = new TvmService({ ...deps, secondFactor: gate });
  const mfa = new MfaService({ tvm: service, gate, factors: deps.factors, challenges: deps.challenges, users: deps.users, clock: deps.clock, auditor, relyingParty });
  return { service, gate, mfa };
}
