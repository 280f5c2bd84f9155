# attnscope as one container: the web page, the JSON API and the shipped checkpoints.
#
#   docker build -t attnscope .
#   docker run -p 8000:8000 attnscope                       # http://127.0.0.1:8000
#   docker run --rm -i attnscope translate < sentences.txt  # the CLI, same image
#
# Both build arguments have defaults that suit users; the test suite overrides them where Docker Hub
# and download.pytorch.org cannot be reached (a local Debian base, a local index with one wheel).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# The CPU-only wheel index: the image carries no CUDA libraries. The version carries the +cpu label,
# so no other index can satisfy it with a CUDA build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0+cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# A virtual environment works the same on python:3.11-slim and on a plain Debian base.
RUN python3 -m venv /opt/venv

# Torch first and alone: the largest layer, rebuilt only when its arguments change.
# Its C++ headers and its own C++ test programs (about 190 MB) are for building extensions and for
# testing torch; nothing here loads them.
RUN pip install --index-url "${TORCH_INDEX_URL}" --extra-index-url https://pypi.org/simple \
        "torch==${TORCH_VERSION}" \
    && torch_dir="$(echo /opt/venv/lib/python3*/site-packages/torch)" \
    && rm -rf "$torch_dir/include" "$torch_dir/test" "$torch_dir"/bin/*[Tt]est* "$torch_dir"/bin/protoc*

# The other dependencies, read from pyproject.toml (torch's range there is met by now), so that a
# code change reuses this layer and only a dependency change reinstalls them.
WORKDIR /app
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code, the templates, the static files and the checkpoints (.dockerignore lists what comes in).
# It runs from /app as it is, owned by root and read-only to the server's user.
COPY model ./model
COPY app ./app
COPY templates ./templates
COPY static ./static
# A checkout made under a strict umask has files only root can read; the server's user must read
# them. The find changes nothing (and adds no bytes) in a usual checkout.
RUN find /app ! -perm -a+r -exec chmod a+rX {} + \
    && useradd --uid 10001 --user-group --no-create-home --no-log-init \
        --shell /usr/sbin/nologin attnscope
USER 10001

ENV ATTNSCOPE_HOST=0.0.0.0 \
    ATTNSCOPE_PORT=8000
EXPOSE 8000

# The check runs a few lines of the standard library, not the app (importing torch takes seconds).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "app.healthcheck"]

ENTRYPOINT ["python", "-m", "app.cli"]
CMD ["serve"]
