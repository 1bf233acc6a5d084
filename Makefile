# linx: build, demo and test. `make demo` and `make test` do all the set-up a
# fresh Debian machine needs (Erlang/OTP, rebar3, Common Test, dialyzer from
# Debian's packages, and Elixir for lib/ and examples/elixir; Rust crates
# through cargo from the Rust package index).

SHELL := /bin/bash
CARGO ?= cargo
REBAR3 ?= rebar3
DEB_PKGS := erlang-nox erlang-dev rebar3 erlang-common-test erlang-dialyzer erlang-eunit erlang-proper iproute2 util-linux procps python3 libcap2-bin elixir strace sudo nftables iputils-ping

.PHONY: all deps port build demo test bench setcap install uninstall fuzz clean

all: build

# Install what is missing (idempotent; quiet when all is there).
deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first"; exit 1; }
	@$(CARGO) fetch -q

# The Rust port program, placed where code:priv_dir(linx) finds it (see
# scripts/port: LINX_PORT, CARGO_TARGET_DIR, copied only when it changed).
port:
	@CARGO=$(CARGO) bash scripts/port

build: deps
	$(REBAR3) compile

demo: build
	@bash scripts/demo

test: deps
	@bash scripts/test

# Coverage-guided fuzzing of the codec (fuzz/, its own crate) for
# FUZZ_SECONDS. cargo-fuzz is installed on first use; it needs
# RUSTC_BOOTSTRAP=1 on the stable toolchain. The checked-in seed corpus
# fuzz/corpus/$(FUZZ_TARGET) is read, never written: inputs found on the way
# go to fuzz/target/corpus/$(FUZZ_TARGET) (kept between runs), crashes to
# fuzz/artifacts/. Each input may take at most 10 s and allocate at most
# 64 MiB at once.
FUZZ_TARGET ?= wire
FUZZ_SECONDS ?= 300
fuzz:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@mkdir -p fuzz/target/corpus/$(FUZZ_TARGET)
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $(FUZZ_TARGET) fuzz/target/corpus/$(FUZZ_TARGET) fuzz/corpus/$(FUZZ_TARGET) -- \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=10 -malloc_limit_mb=64 -print_final_stats=1

bench: build
	@bash scripts/bench

# Let an unprivileged node run the port: give the program the capabilities
# it keeps anyway (it drops every other one at start).
PORT_CAPS := cap_sys_admin,cap_net_admin,cap_sys_ptrace,cap_sys_chroot,cap_net_raw,cap_dac_override,cap_dac_read_search
setcap: build
	setcap $(PORT_CAPS)+ep priv/linx_port
	getcap priv/linx_port

# Install the program for unprivileged nodes: owned by root and group
# LINX_GROUP (created if missing), mode 0750 so only root and members of
# the group may run it, with PORT_CAPS. Point the application at it:
# {port_executable, "$(PREFIX)/libexec/linx/linx_port"} or LINX_PORT=...
# Run as root; DESTDIR, if set, is put in front of the path.
PREFIX ?= /usr/local
LINX_GROUP ?= linx
INSTALLED := $(DESTDIR)$(PREFIX)/libexec/linx/linx_port
install: port
	@getent group $(LINX_GROUP) >/dev/null || groupadd --system $(LINX_GROUP)
	install -D -o root -g $(LINX_GROUP) -m 0750 priv/linx_port $(INSTALLED)
	setcap $(PORT_CAPS)+ep $(INSTALLED)
	@getcap $(INSTALLED)
	@echo "installed $(INSTALLED): set {port_executable, \"$(PREFIX)/libexec/linx/linx_port\"} (or LINX_PORT) and add the node's user to group $(LINX_GROUP)"

uninstall:
	rm -f $(INSTALLED)
	-rmdir $(dir $(INSTALLED)) 2>/dev/null

clean:
	$(CARGO) clean
	rm -rf _build doc priv/linx_port
