package github

import (
	"context"
	"errors"

	"github.com/tocsin/tocsin/integrations"
)

// Check reads the configured repository (GET /repos/{owner}/{repo}) and
// says whether the token can file and close issues there, for `tocsin
// check` and the integration's test button. Its failures are classified
// like Notify's: a *integrations.PermanentError says what to fix.
func (n *Notifier) Check(ctx context.Context) error {
	ctx, cancel := n.attempt(ctx)
	defer cancel()
	r, resp, err := n.client.Repositories.Get(ctx, n.repo.owner, n.repo.name)
	if err != nil {
		return n.fail(ctx, "read repository "+n.repo.String(), resp, err)
	}
	refuse := func(reason, msg string) error {
		return &integrations.PermanentError{Reason: reason, Status: resp.StatusCode,
			Err: errors.New("github: repository " + n.repo.String() + ": " + msg)}
	}
	switch {
	case r.GetArchived():
		return refuse(integrations.ReasonConfig, "archived, so read-only")
	case r.HasIssues != nil && !*r.HasIssues:
		return refuse(integrations.ReasonConfig, "issues are disabled")
	}
	// Personal tokens get the user's permissions on the repository;
	// installation tokens get none in this answer, and are taken on trust.
	if p := r.GetPermissions(); len(p) > 0 && !(p["triage"] || p["push"] || p["maintain"] || p["admin"]) {
		return refuse(integrations.ReasonAuth, "the token may open issues but not close, reopen or label them (it needs triage access)")
	}
	return nil
}
