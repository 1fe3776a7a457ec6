package event

import "time"

// extract reads the typed fields from the normalized data.
func extract(ev *Event) {
	m := ev.Data
	ev.ID = str(m["event_id"])
	ev.Type = str(m["type"])
	ev.Timestamp, _ = parseTimestamp(m["timestamp"])
	ev.Received, _ = parseTimestamp(m["received"])
	if ev.Received.IsZero() {
		ev.Received = time.Now().UTC()
	}
	ev.Platform = str(m["platform"])
	ev.Level = str(m["level"])
	ev.Logger = str(m["logger"])
	ev.Transaction = str(m["transaction"])
	ev.ServerName = str(m["server_name"])
	ev.Release = str(m["release"])
	ev.Dist = str(m["dist"])
	ev.Environment = str(m["environment"])
	ev.Culprit = str(m["culprit"])
	if le := obj(m["logentry"]); le != nil {
		ev.Message = str(le["formatted"])
		ev.MessageTemplate = str(le["message"])
	}
	for _, e := range list(obj(m["exception"])["values"]) {
		eo := obj(e)
		exc := Exception{Type: str(eo["type"]), Value: str(eo["value"]), Module: str(eo["module"]),
			Stacktrace: stacktraceOf(eo["stacktrace"], ev.Platform)}
		if mech := obj(eo["mechanism"]); mech != nil {
			exc.Mechanism = &Mechanism{Type: str(mech["type"]), Handled: boolPtr(mech["handled"]),
				Synthetic: mech["synthetic"] == true}
		}
		ev.Exceptions = append(ev.Exceptions, exc)
	}
	for _, t := range list(obj(m["threads"])["values"]) {
		to := obj(t)
		ev.Threads = append(ev.Threads, Thread{ID: str(to["id"]), Name: str(to["name"]),
			Crashed: to["crashed"] == true, Current: to["current"] == true,
			Stacktrace: stacktraceOf(to["stacktrace"], ev.Platform)})
	}
	ev.Stacktrace = stacktraceOf(m["stacktrace"], ev.Platform)
	for _, f := range list(m["fingerprint"]) {
		ev.Fingerprint = append(ev.Fingerprint, str(f))
	}
	for _, p := range list(m["tags"]) {
		kv := list(p)
		ev.Tags = append(ev.Tags, Tag{Key: str(kv[0]), Value: str(kv[1])})
	}
	if u := obj(m["user"]); u != nil {
		ev.User = &User{ID: str(u["id"]), Email: str(u["email"]), Username: str(u["username"]), IPAddress: str(u["ip_address"])}
	}
	if r := obj(m["request"]); r != nil {
		ev.Request = &Request{URL: str(r["url"]), Method: str(r["method"])}
	}
	if sdk := obj(m["sdk"]); sdk != nil {
		ev.SDK = SDK{Name: str(sdk["name"]), Version: str(sdk["version"])}
	}
}

func stacktraceOf(v any, platform string) *Stacktrace {
	st := obj(v)
	if st == nil {
		return nil
	}
	frames := list(st["frames"])
	out := &Stacktrace{Frames: make([]Frame, 0, len(frames))}
	for _, f := range frames {
		fo := obj(f)
		fr := Frame{
			Filename: str(fo["filename"]), AbsPath: str(fo["abs_path"]), Module: str(fo["module"]),
			Package: str(fo["package"]), Function: str(fo["function"]), RawFunction: str(fo["raw_function"]),
			Platform: str(fo["platform"]), ContextLine: str(fo["context_line"]),
			Lineno: intOf(fo["lineno"]), Colno: intOf(fo["colno"]), InApp: boolPtr(fo["in_app"]),
		}
		if fr.Platform == "" {
			fr.Platform = platform
		}
		out.Frames = append(out.Frames, fr)
	}
	return out
}
