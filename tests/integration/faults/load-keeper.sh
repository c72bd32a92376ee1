#!/usr/bin/env bash
# faults/load-keeper.sh: faults/load.sh with the keeper killed first (issue
# 17): each of the three SIGKILLs of ocitapd comes right after a SIGKILL of
# ocitap-fdkeeper, once ocitapd has started a new keeper and handed it every
# fd it holds (its notify fds, the listening socket, the inits' pidfds).
# What must hold afterwards is what load.sh checks; what is lost when both
# die before that hand-over is in docs/reliability.md.
LOAD_KEEPER=first LOAD_NAME=load-keeper exec "$(dirname "$0")/load.sh" "$@"
