package store

import (
	"context"
	"fmt"
)

// What the rules API checks before saving a rule: that the teams it names
// (owner, email and assignee targets) belong to the organization.

// OrganizationHasTeam reports whether the team is one of the organization's.
func (s *Store) OrganizationHasTeam(ctx context.Context, orgID, teamID int64) (bool, error) {
	var n int
	if err := s.r.queryRow(ctx, `SELECT COUNT(*) FROM teams WHERE organization_id = $1 AND id = $2`,
		orgID, teamID).Scan(&n); err != nil {
		return false, fmt.Errorf("team %d of organization %d: %w", teamID, orgID, err)
	}
	return n > 0, nil
}
