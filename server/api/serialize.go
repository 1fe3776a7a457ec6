package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/store"
)

// The JSON shapes below follow Sentry's serializers (src/sentry/api/serializers/models/).

type avatarJSON struct {
	AvatarType string  `json:"avatarType"`
	AvatarUUID *string `json:"avatarUuid"`
}

var letterAvatar = avatarJSON{AvatarType: "letter_avatar"}

type statusJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type organizationJSON struct {
	ID             string     `json:"id"`
	Slug           string     `json:"slug"`
	Name           string     `json:"name"`
	DateCreated    time.Time  `json:"dateCreated"`
	Status         statusJSON `json:"status"`
	IsEarlyAdopter bool       `json:"isEarlyAdopter"`
	Require2FA     bool       `json:"require2FA"`
	// RequireEmailVerification is read by sentry-cli's organization list.
	RequireEmailVerification bool       `json:"requireEmailVerification"`
	Avatar                   avatarJSON `json:"avatar"`
	Features                 []string   `json:"features"`
	Links                    linksJSON  `json:"links"`
}

type linksJSON struct {
	OrganizationURL string `json:"organizationUrl"`
	RegionURL       string `json:"regionUrl"`
}

// organizationDetailJSON adds what the detail endpoint shows to a member.
type organizationDetailJSON struct {
	organizationJSON
	Access  []string `json:"access"`
	OrgRole string   `json:"orgRole"`
	Role    string   `json:"role"`
}

func (h *Handler) organizationJSON(o *store.Organization) organizationJSON {
	return organizationJSON{
		ID: id(o.ID), Slug: o.Slug, Name: o.Name, DateCreated: o.DateCreated,
		Status: statusJSON{ID: o.Status, Name: o.Status}, Avatar: letterAvatar, Features: []string{},
		Links: linksJSON{OrganizationURL: h.baseURL, RegionURL: h.baseURL},
	}
}

type teamJSON struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	DateCreated time.Time  `json:"dateCreated"`
	IsMember    bool       `json:"isMember"`
	TeamRole    *string    `json:"teamRole"`
	MemberCount int        `json:"memberCount"`
	HasAccess   bool       `json:"hasAccess"`
	IsPending   bool       `json:"isPending"`
	Avatar      avatarJSON `json:"avatar"`
}

func teamToJSON(t *store.Team) teamJSON {
	return teamJSON{ID: id(t.ID), Slug: t.Slug, Name: t.Name, DateCreated: t.DateCreated,
		IsMember: t.IsMember, MemberCount: t.MemberCount, HasAccess: true, Avatar: letterAvatar}
}

type teamRefJSON struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

type projectJSON struct {
	ID           string            `json:"id"`
	Slug         string            `json:"slug"`
	Name         string            `json:"name"`
	Platform     *string           `json:"platform"`
	DateCreated  time.Time         `json:"dateCreated"`
	IsBookmarked bool              `json:"isBookmarked"`
	IsMember     bool              `json:"isMember"`
	HasAccess    bool              `json:"hasAccess"`
	IsPublic     bool              `json:"isPublic"`
	Features     []string          `json:"features"`
	FirstEvent   *time.Time        `json:"firstEvent"`
	Status       string            `json:"status"`
	Organization *organizationJSON `json:"organization,omitempty"`
	Team         *teamRefJSON      `json:"team"`
	Teams        []teamRefJSON     `json:"teams"`
	// AllowedDomains and EventQuotaPerDay are project settings of ingest.
	AllowedDomains   []string `json:"allowedDomains"`
	EventQuotaPerDay int64    `json:"eventQuotaPerDay"`
}

func (h *Handler) projectJSON(p *store.Project, org *store.Organization) projectJSON {
	out := projectJSON{ID: id(p.ID), Slug: p.Slug, Name: p.Name, DateCreated: p.DateCreated,
		IsMember: true, HasAccess: true, Features: []string{}, FirstEvent: p.FirstEvent,
		Status: p.Status, Teams: []teamRefJSON{}, AllowedDomains: p.AllowedDomains, EventQuotaPerDay: p.EventQuotaPerDay}
	if p.Platform != "" {
		out.Platform = &p.Platform
	}
	if org != nil {
		o := h.organizationJSON(org)
		out.Organization = &o
	}
	for _, t := range p.Teams {
		out.Teams = append(out.Teams, teamRefJSON{ID: id(t.ID), Slug: t.Slug, Name: t.Name})
	}
	if len(out.Teams) > 0 {
		out.Team = &out.Teams[0]
	}
	return out
}

type rateLimitJSON struct {
	Window int `json:"window"`
	Count  int `json:"count"`
}

type dsnJSON struct {
	Secret   string `json:"secret"`
	Public   string `json:"public"`
	CSP      string `json:"csp"`
	Security string `json:"security"`
	Minidump string `json:"minidump"`
	Unreal   string `json:"unreal"`
	CDN      string `json:"cdn"`
}

type keyJSON struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	Label             string         `json:"label"`
	Public            string         `json:"public"`
	Secret            string         `json:"secret"`
	ProjectID         int64          `json:"projectId"`
	IsActive          bool           `json:"isActive"`
	RateLimit         *rateLimitJSON `json:"rateLimit"`
	DSN               dsnJSON        `json:"dsn"`
	BrowserSDKVersion string         `json:"browserSdkVersion"`
	DateCreated       time.Time      `json:"dateCreated"`
}

func (h *Handler) keyJSON(k *store.ProjectKey) keyJSON {
	pid := strconv.FormatInt(k.ProjectID, 10)
	endpoint := func(path string) string {
		return h.baseURL + "/api/" + pid + "/" + path + "/?sentry_key=" + k.Public
	}
	out := keyJSON{
		ID: k.Public, Name: k.Label, Label: k.Label, Public: k.Public, Secret: k.Secret,
		ProjectID: k.ProjectID, IsActive: k.IsActive, BrowserSDKVersion: "latest", DateCreated: k.DateCreated,
		DSN: dsnJSON{
			Public:   k.DSN(h.baseURL),
			Secret:   k.SecretDSN(h.baseURL),
			CSP:      endpoint("csp-report"),
			Security: endpoint("security"),
			Minidump: endpoint("minidump"),
			Unreal:   h.baseURL + "/api/" + pid + "/unreal/" + k.Public + "/",
			CDN:      h.baseURL + "/js-sdk-loader/" + k.Public + ".min.js",
		},
	}
	if k.RateLimitCount > 0 && k.RateLimitWindow > 0 {
		out.RateLimit = &rateLimitJSON{Window: k.RateLimitWindow, Count: k.RateLimitCount}
	}
	return out
}

type userJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Username    string     `json:"username"`
	Email       string     `json:"email"`
	IsActive    bool       `json:"isActive"`
	IsSuperuser bool       `json:"isSuperuser"`
	DateJoined  time.Time  `json:"dateJoined"`
	LastLogin   *time.Time `json:"lastLogin"`
	Avatar      avatarJSON `json:"avatar"`
}

func userToJSON(u *store.User) userJSON {
	name := u.Name
	if name == "" {
		name, _, _ = strings.Cut(u.Email, "@")
	}
	return userJSON{ID: id(u.ID), Name: name, Username: u.Email, Email: u.Email, IsActive: u.IsActive,
		IsSuperuser: u.IsSuperuser, DateJoined: u.DateJoined, LastLogin: u.LastLogin, Avatar: letterAvatar}
}

// id renders an id as Sentry does: a string.
func id(n int64) string { return strconv.FormatInt(n, 10) }
