# syntax=docker/dockerfile:1
# The ListBackup image: `listbackup serve` (the API, the default) or `listbackup worker`.
# Only the runtime lock is installed: no dev or deploy dependencies reach the image.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/listbackup
# Dependencies first, by hash, so a code change reuses this layer.
COPY requirements-runtime.lock /src/
RUN /opt/listbackup/bin/pip install --require-hashes --no-deps -r /src/requirements-runtime.lock
COPY pyproject.toml README.md /src/
COPY listbackup /src/listbackup
# The wheel alone, --no-deps: what it needs is already pinned above, whatever extras
# pyproject.toml declares.
RUN /opt/listbackup/bin/pip wheel --no-deps --wheel-dir /wheels /src \
    && /opt/listbackup/bin/pip install --no-deps /wheels/listbackup-*.whl

FROM python:3.11-slim-bookworm
ENV PATH=/opt/listbackup/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent listbackup
COPY --from=build /opt/listbackup /opt/listbackup
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
CMD ["listbackup", "serve"]
