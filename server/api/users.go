package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/store"
)

// A user's details and options, as Sentry's /users/{user}/: the options
// Tocsin reads are the language and time zone of the email it sends them.

type userOptionsJSON struct {
	Language string `json:"language"`
	Timezone string `json:"timezone"`
}

type userDetailsJSON struct {
	userJSON
	Options userOptionsJSON `json:"options"`
}

func (h *Handler) userDetails(w http.ResponseWriter, r *http.Request, p *principal) {
	if !selfOnly(w, r, p) {
		return
	}
	o, err := h.store.UserOptionsGet(r.Context(), p.user.ID)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, userDetailsJSON{userJSON: userToJSON(p.user), Options: optionsToJSON(o)})
}

func optionsToJSON(o store.UserOptions) userOptionsJSON {
	out := userOptionsJSON{Language: o.Language, Timezone: o.Timezone}
	if out.Language == "" {
		out.Language = "en"
	}
	if out.Timezone == "" {
		out.Timezone = "UTC"
	}
	return out
}

// userUpdate takes {"options": {"language", "timezone"}}; options left out
// keep their values.
func (h *Handler) userUpdate(w http.ResponseWriter, r *http.Request, p *principal) {
	if !selfOnly(w, r, p) {
		return
	}
	var req struct {
		Options *struct {
			Language *string `json:"language"`
			Timezone *string `json:"timezone"`
		} `json:"options"`
	}
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	o, err := h.store.UserOptionsGet(r.Context(), p.user.ID)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	if req.Options != nil {
		if l := req.Options.Language; l != nil {
			lang := strings.TrimSpace(*l)
			if !locale.Valid(lang) {
				replyBadRequest(w, invalidField("options.language", "%q is not one of %s", lang, strings.Join(locale.Languages, ", ")))
				return
			}
			for _, known := range locale.Languages {
				if strings.EqualFold(known, lang) {
					lang = known // Sentry's clients send zh-cn
				}
			}
			if lang == "en" {
				lang = ""
			}
			o.Language = lang
		}
		if tz := req.Options.Timezone; tz != nil {
			zone := strings.TrimSpace(*tz)
			if _, err := time.LoadLocation(zone); err != nil || zone == "Local" {
				replyBadRequest(w, invalidField("options.timezone", "%q is not a time zone name such as Asia/Shanghai", zone))
				return
			}
			if zone == "UTC" {
				zone = ""
			}
			o.Timezone = zone
		}
	}
	if err := h.store.UserOptionsSet(r.Context(), p.user.ID, o); err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, userDetailsJSON{userJSON: userToJSON(p.user), Options: optionsToJSON(o)})
}
