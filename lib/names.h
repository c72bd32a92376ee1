/*
 * names.h: the names people use for a container, which its id is not: its
 * name (Docker's, podman's, the Kubernetes container's), its pod and the
 * pod's namespace, and the manager that started it (docker, containerd,
 * podman, cri-o, kubernetes). Told from the State's annotations and bundle
 * path, and where they say nothing, from the engine's own record: Docker's
 * DATA-ROOT/containers/ID/config.v2.json, podman's containers.json beside
 * the bundle (docs/design/runtimes.md, "Names"). And, for the CLI, which
 * container a name or an id prefix given on the command line means.
 *
 * Files are read within bounds, only when regular, never through a link
 * below the directory they are looked for in, never blocking.
 */
#ifndef OCITAP_NAMES_H
#define OCITAP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "state.h"

/* A name, pod or namespace longer than this (or with a control character) is not kept. */
#define OCITAP_NAME_MAX 253

/* The managers (struct ocitap_names.manager). */
#define OCITAP_MANAGER_DOCKER	  "docker"
#define OCITAP_MANAGER_CONTAINERD "containerd"
#define OCITAP_MANAGER_PODMAN	  "podman"
#define OCITAP_MANAGER_CRIO	  "cri-o"
#define OCITAP_MANAGER_KUBERNETES "kubernetes" /* containerd's CRI plugin, or kubelet's labels alone */

/* Annotations the names are read from (runtimes.md says who sets which). */
#define OCITAP_ANN_MANAGER	      "io.container.manager" /* podman: libpod; CRI-O: cri-o */
#define OCITAP_ANN_CRI_CONTAINER      "io.kubernetes.cri.container-name"
#define OCITAP_ANN_CRI_SANDBOX	      "io.kubernetes.cri.sandbox-name"
#define OCITAP_ANN_CRI_NAMESPACE      "io.kubernetes.cri.sandbox-namespace"
#define OCITAP_ANN_CRI_TYPE	      "io.kubernetes.cri.container-type"
#define OCITAP_ANN_CRI_SANDBOX_ID     "io.kubernetes.cri.sandbox-id"
#define OCITAP_ANN_KUBE_CONTAINER     "io.kubernetes.container.name"
#define OCITAP_ANN_KUBE_POD	      "io.kubernetes.pod.name"
#define OCITAP_ANN_KUBE_POD_NAMESPACE "io.kubernetes.pod.namespace"

/* Docker's data root when nothing says otherwise ($OCITAP_DOCKER_ROOT, --docker-root). */
#define OCITAP_DEFAULT_DOCKER_ROOT "/var/lib/docker"
#define OCITAP_ENV_DOCKER_ROOT	   "OCITAP_DOCKER_ROOT"

/* Bounds of the engines' files: one container's config.v2.json, podman's
 * containers.json (every container of that storage, ~700 bytes each). */
#define OCITAP_DOCKER_CONFIG_MAX     (1u << 20)
#define OCITAP_PODMAN_CONTAINERS_MAX (16u << 20)

/* Each NULL when not known; owned (ocitap_names_release). */
struct ocitap_names {
	char *name;
	char *pod;
	char *pod_namespace; /* "namespace" in the API: the pod's Kubernetes namespace, or the
			      * containerd namespace of a container containerd started for
			      * another client (ctr, nerdctl) */
	char *manager;	     /* one of OCITAP_MANAGER_* */
};

/* What a run's names are told from (all borrowed). */
struct ocitap_names_source {
	const char *id;
	const char *bundle; /* NULL: not known */
	const struct ocitap_annotation *annotations;
	size_t n_annotations;
	const char *docker_root; /* NULL: Docker's record is not looked at */
	int64_t owner;		 /* the run's owner: podman's file must be root's or this uid's (-1: root's) */
};

/*
 * What the annotations and the bundle path say, reading nothing: the names
 * of the annotations above; the manager from io.container.manager (libpod:
 * podman, cri-o), the CRI annotations (kubernetes), kubelet's labels
 * (kubernetes), or a bundle under containerd's task directory
 * (.../io.containerd.runtime.v2.task/NAMESPACE/ID: docker for NAMESPACE moby,
 * else containerd, and NAMESPACE is the namespace). 0, or -ENOMEM.
 */
int ocitap_names_from_annotations(const struct ocitap_names_source *src, struct ocitap_names *ret);

/*
 * ocitap_names_from_annotations(), then, for a name still unknown: Docker's
 * config.v2.json under src->docker_root (when the manager is docker, or not
 * known and id is a 64-hex Docker id; found there, the manager is docker)
 * and podman's containers.json (manager podman; the bundle is
 * .../DRIVER-containers/ID/userdata). A file that cannot be read or says
 * nothing leaves the name unknown: 0 all the same, with *err (may be NULL)
 * saying why when a file was there but refused. -ENOMEM only.
 */
int ocitap_names_derive(const struct ocitap_names_source *src, struct ocitap_names *ret, struct ocitap_error *err);

void ocitap_names_release(struct ocitap_names *n);

/* The "Name" of a Docker config.v2.json (len bytes of buf) without its
 * leading "/": 0 with *ret (free() it); -ENOENT when it has none (or one
 * not kept: too long, a control character); -EINVAL/-EBADMSG, with err,
 * when buf is not such a file. */
int ocitap_docker_config_name(const char *buf, size_t len, char **ret, struct ocitap_error *err);

/* The first of "names" of the entry whose "id" is id in a containers/storage
 * containers.json (a JSON array): as ocitap_docker_config_name(). */
int ocitap_podman_containers_name(const char *buf, size_t len, const char *id, char **ret, struct ocitap_error *err);

/* Read DATA-ROOT/containers/ID/config.v2.json (id a 64-hex Docker id; no
 * link followed below docker_root) and return its name: 0 with *ret, or a
 * negative errno with err (-ENOENT: no such container or no name). */
int ocitap_docker_container_name(const char *docker_root, const char *id, char **ret, struct ocitap_error *err);

/* ---- which container a name or prefix means (the CLI's arguments) ---- */

/* A container a reference may mean (borrowed strings; name NULL: none). */
struct ocitap_ref_candidate {
	const char *id;
	const char *name;
	const char *status; /* shown when it is one of several (NULL: not shown) */
	bool live;	    /* not stopped: what a name shared with stopped ones means */
};

#define OCITAP_REF_PREFIX_MIN 3

/*
 * Which of the n candidates ref means, as Docker resolves its own: an id
 * equal to ref; else the containers named ref (several: the one that is
 * live, when only one is); else the ids that start with ref, when ref has
 * at least OCITAP_REF_PREFIX_MIN bytes. 0 with *ret_index; -ENOENT when
 * none; -EINVAL (err says so) for a shorter ref that is neither an id nor
 * a name; -ENOTUNIQ when several match: err lists them (as many as fit) and
 * ret_matches (size n, may be NULL) holds their indices, *ret_n how many.
 */
int ocitap_ref_resolve(const char *ref, const struct ocitap_ref_candidate *c, size_t n, size_t *ret_index,
		       size_t *ret_matches, size_t *ret_n, struct ocitap_error *err);

#endif
