# syntax=docker/dockerfile:1
# Build: a static binary (no cgo), with the time zone database compiled in (time/tzdata).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/attachbot . && \
    mkdir -p /out/data

# Run: distroless static, as a non-root user; the bbolt file lives on a volume.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/attachbot /attachbot
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV DB_PATH=/data/attachbot.db LISTEN_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/attachbot"]
CMD ["serve"]
