# newsdesk: the Discord bot and its CLI in one image.
#
#   docker build -t newsdesk:local .          (docker compose up -d --build does this for you)
#   docker run --rm -v newsdesk-data:/data newsdesk:local ask "What did OpenAI ship?"
#
# Two stages. The builder makes a virtualenv with every dependency (the LLM providers included),
# puts the default embedding model in chromadb's cache, and installs newsdesk itself (not editable)
# into a directory of its own. The final image copies those three onto a clean base: no compiler,
# no pip, no pip cache, no test tool. A code change rebuilds only the small application layer; the
# 700 MB of dependencies stay cached. Everything the bot stores lives under /data (a volume).
# Works with BuildKit and with the classic builder.

# ---- builder --------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS builder

# HOME is the runtime user's home here too, so chromadb's model cache (~/.cache/chroma) lands at the
# path the final stage copies and the bot later reads.
ENV HOME=/home/newsdesk \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them:
# a stub package lets pip resolve '.[llm]', then the stub is uninstalled again. A current pip
# resolves as it does on a developer's machine (older ones, like Debian's 23.0, miss extras spelled
# with `_`, such as jusText's lxml[html_clean]); `pip check` fails the build on a broken set.
# The application goes to /opt/newsdesk (below), which a .pth file puts on the virtualenv's path.
COPY pyproject.toml ./
# DL3013 (pin versions) does not apply: this installs the local project, whose dependency versions
# are pinned in pyproject.toml; hadolint only recognises a bare `.` as the local project, not `.[llm]`.
# hadolint ignore=DL3013
RUN python -m venv /opt/venv \
    && pip install 'pip>=25' \
    && mkdir -p newsdesk && touch newsdesk/__init__.py \
    && pip install '.[llm]' \
    && pip check \
    && pip uninstall --yes newsdesk pip setuptools wheel \
    && rm -rf newsdesk build ./*.egg-info \
    && echo /opt/newsdesk > "$(python -c 'import site; print(site.getsitepackages()[0])')/newsdesk-app.pth"

# The default embedding model (all-MiniLM-L6-v2, ONNX) goes into the image so that a container embeds
# with no network. An optional models/ folder in the build context (same layout as chromadb's cache:
# models/all-MiniLM-L6-v2/onnx/*) is used when present; otherwise chromadb downloads the model here.
# `model[s]` is a wildcard that may match nothing; pyproject.toml is listed so the COPY always has a
# source (the classic builder refuses a COPY whose wildcards all match nothing).
COPY pyproject.toml model[s] /tmp/models/
RUN cache="$HOME/.cache/chroma/onnx_models" \
    && mkdir -p "$cache" \
    && if [ -f /tmp/models/all-MiniLM-L6-v2/onnx/model.onnx ]; then \
         cp -r /tmp/models/all-MiniLM-L6-v2 "$cache/"; \
       fi \
    && { python -c "from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2 as F; \
v = F(preferred_providers=['CPUExecutionProvider'])(['newsdesk']); assert len(v[0]) == 384, len(v[0])" \
         || { echo >&2 "The embedding model could not be loaded or downloaded. For an offline build put a copy" \
                       "in models/all-MiniLM-L6-v2/onnx/ (see docs/docker.md)."; exit 1; }; } \
    && rm -rf /tmp/models "$cache/all-MiniLM-L6-v2/onnx.tar.gz"

# The application itself, non-editable, with its `newsdesk` command in /opt/newsdesk/bin. The
# virtualenv has no pip any more, so a throwaway pip installs it on the virtualenv's interpreter
# (`--python`), which also gives the command the right #! line.
COPY newsdesk/ newsdesk/
COPY ingest/ ingest/
COPY vectorstore/ vectorstore/
COPY answer/ answer/
COPY bot/ bot/
RUN python -m venv /tmp/installer \
    && /tmp/installer/bin/pip --python /opt/venv/bin/python install --no-deps --target /opt/newsdesk . \
    && rm -rf /tmp/installer build ./*.egg-info \
    && /opt/newsdesk/bin/newsdesk --version

# ---- runtime --------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV HOME=/home/newsdesk \
    PATH=/opt/newsdesk/bin:/opt/venv/bin:$PATH \
    DATA_DIR=/data \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

# A fixed uid/gid so volume ownership is predictable across rebuilds.
RUN groupadd --system --gid 10001 newsdesk \
    && useradd --system --uid 10001 --gid newsdesk --home-dir /home/newsdesk --create-home \
       --shell /usr/sbin/nologin newsdesk \
    && mkdir -p /data \
    && chown newsdesk:newsdesk /data

# Largest and least often changed first. The code is root-owned (read-only for the bot); the model
# cache belongs to the user.
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=newsdesk:newsdesk /home/newsdesk/.cache /home/newsdesk/.cache
COPY --from=builder /opt/newsdesk /opt/newsdesk

# Numeric, so runtimes that check for a non-root user (runAsNonRoot) can tell without /etc/passwd.
USER 10001:10001
WORKDIR /home/newsdesk
VOLUME ["/data"]

# Exit 0 when the settings are valid and the store answers (one heartbeat, no retries).
HEALTHCHECK --interval=60s --timeout=30s --start-period=90s --retries=3 CMD ["newsdesk", "health"]

ENTRYPOINT ["newsdesk"]
CMD ["run"]
