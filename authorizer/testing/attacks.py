"""`authorizer test --token-attacks`: the attack battery (tokens/attacks.py) against every issuer of
the policies tested, through the real `evaluate`.

An attack must be refused where a valid token opens something, or it proves nothing: each attack
takes the place of the token in every passing case that expects an Allow with a token of that
issuer, carrying the case's own claims (groups, tenant, ...) and travelling where it does; the
battery's tokens are otherwise signed with the issuer's per-run test key, so that each one fails
for its own flaw. Any Allow fails the run, and so does an issuer no such case covers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from authorizer.decide.evaluate import evaluate
from authorizer.testing.runner import CaseResult, Policies
from authorizer.testing.tokens import issuer, place


@dataclass(slots=True)
class IssuerReport:
    policy: str
    issuer: str
    attacks: int = 0
    cases: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # effect → count
    allowed: list[str] = field(default_factory=list)  # "attack on case", for every Allow

    @property
    def passed(self) -> bool:
        return self.cases > 0 and not self.allowed

    def line(self) -> str:
        head = f"{self.policy}: issuer {self.issuer!r}:"
        if not self.cases:
            return f"{head} no passing case expects an allow with its token: add one, or the attacks prove nothing"
        counts = ", ".join(f"{n} {'401' if effect == 'unauthorized' else '403'}" for effect, n in self.refused.items())
        verdict = f"ALLOWED {len(self.allowed)}: {'; '.join(self.allowed[:5])}" if self.allowed else "all refused"
        return f"{head} {self.attacks} attacks × {self.cases} cases: {verdict} ({counts})"


def token_attacks(results: list[CaseResult], policies: Policies) -> list[IssuerReport]:
    """One report per issuer of every policy tested that has `tokens:`."""
    from authorizer.tokens.attacks import battery

    reports: dict[tuple[str, str], IssuerReport] = {}
    for tested in policies.all():
        tokens = tested.loaded.policy.tokens if tested.loaded is not None else None
        for name in tokens.issuers if tokens is not None else ():
            reports[(tested.name, name)] = IssuerReport(tested.name, name)
    for result in results:
        case, compiled = result.case, result.policy.loaded.policy if result.policy.loaded else None
        tokens = compiled.tokens if compiled is not None else None
        if not result.passed or case.token is None or case.token.get("forged") or tokens is None:
            continue
        if case.expect.get("effect") != "allow" or case.spec is None or case.kind is None:
            continue
        name, config = issuer(tokens, case.token.get("issuer"))  # the case ran: its issuer is known
        report = reports[(result.policy.name, name)]
        key = policies.keys.key(name, config)
        report.cases += 1
        attacks = list(battery(config, key.public_jwk(), signer=key, now=time.time(), claims=case.token.get("claims")))
        report.attacks = len(attacks)
        for attack, token in attacks:
            event = place(case.spec, case.kind, tokens, case.token.get("in"), token).to_event(case.kind)
            decision = evaluate(event, compiled, case.response_format)[0]
            if decision.effect == "allow":
                report.allowed.append(f"{attack} on {case.name!r}")
            else:
                report.refused[decision.effect] = report.refused.get(decision.effect, 0) + 1
    return list(reports.values())
