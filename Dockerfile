# syntax=docker/dockerfile:1
#
# Tocsin: one static binary on a distroless base, running as the nonroot user.
#
#   docker build --build-arg VERSION=1.2.3 -t tocsin .
#   docker run -p 9000:9000 -v tocsin-data:/data tocsin            # embedded shape: tocsin run
#   docker compose up                                              # scaled shape, see docker-compose.yml

FROM golang:1.26 AS build
ARG VERSION=dev
WORKDIR /src

# Module download in its own layer: it is rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tocsin ./cmd/tocsin

# The final image has no shell to mkdir/chown with, so the data directory is made here,
# owned by distroless's nonroot user (65532:65532), and copied over with that owner.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0750 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tocsin /tocsin
COPY --from=build --chown=65532:65532 /out/data /data
ENV TOCSIN_ADDR=0.0.0.0:9000 TOCSIN_DATA_DIR=/data
VOLUME /data
EXPOSE 9000
USER 65532:65532
ENTRYPOINT ["/tocsin"]
CMD ["run"]
