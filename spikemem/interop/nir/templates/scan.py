"""Run by spikemem.interop.nir.read in a child process (``python -I -c <this text> FILE LIMITS``):
checks the structure of a NIR (HDF5) file within the limits and prints one JSON report."""
import json
import resource
import sys

limits = json.loads(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
# imported after the limit, so that the HDF5 library's own allocations fall under it
import h5py  # noqa: E402
import numpy as np  # noqa: E402

class Refused(Exception):
    pass

def check_tree(group, depth, budget):
    if depth > limits["depth"]:
        raise Refused(f"groups nested deeper than {limits['depth']} levels at '{group.name}'")
    for key in group:
        link = group.get(key, getlink=True)
        where = f"{group.name.rstrip('/')}/{key}"
        if not isinstance(link, h5py.HardLink):
            raise Refused(f"'{where}' is a link ({type(link).__name__}); a NIR file holds none")
        obj = group[key]
        budget["objects"] += 1
        if budget["objects"] > limits["objects"]:
            raise Refused(f"more than {limits['objects']} objects")
        if isinstance(obj, h5py.Group):
            check_tree(obj, depth + 1, budget)
        elif isinstance(obj, h5py.Dataset):
            if obj.is_virtual or obj.external:
                raise Refused(f"'{where}' keeps its data outside the file")
            budget["elements"] += int(np.prod(obj.shape, dtype=np.int64)) if obj.shape else 1
            if budget["elements"] > limits["elements"]:
                raise Refused(f"more than {limits['elements']} array elements (at '{where}')")
            obj[()]                  # read once: a damaged dataset fails here, in the child
        else:
            raise Refused(f"'{where}' is a {type(obj).__name__}")

def text(dataset):
    if not isinstance(dataset, h5py.Dataset) or dataset.shape != () or dataset.dtype.kind not in "OSU":
        return None
    value = dataset[()]
    return value.decode("utf8", "replace") if isinstance(value, bytes) else str(value)

def scan_node(group, name, problems, legacy):
    where = f"node '{name}'" if name else "the root node"
    kind = text(group.get("type"))
    if kind is None:
        problems.append(f"{where}: no readable 'type'")
    elif kind == "NIRGraph":
        nodes = group.get("nodes")
        if not isinstance(nodes, h5py.Group) or not isinstance(group.get("edges"), h5py.Dataset):
            problems.append(f"{where}: a NIRGraph without 'nodes' and 'edges'")
            return
        for key in nodes:
            if isinstance(nodes[key], h5py.Group):
                scan_node(nodes[key], f"{name}/{key}" if name else key, problems, legacy)
            else:
                problems.append(f"node '{name}/{key}' is not a group")
    elif kind not in limits["imported"]:
        problems.append(f"{where}: type '{kind}' is not one spikemem imports ({', '.join(limits['imported'])})")
    elif kind in limits["spiking"] and "v_reset" not in group:
        legacy.append(name)

def scan(path):
    try:
        f = h5py.File(path, "r")
    except Exception as e:
        raise Refused(f"not a readable HDF5 file ({e})")
    with f:
        check_tree(f, 0, {"elements": 0, "objects": 0})
        if not isinstance(f.get("version"), h5py.Dataset) or not isinstance(f.get("node"), h5py.Group):
            raise Refused("not a NIR file (no 'version' dataset and 'node' group)")
        version = text(f["version"])
        problems, legacy = [], []
        scan_node(f["node"], "", problems, legacy)
        return {"version": version, "problems": problems, "legacy": legacy}

try:
    out = scan(sys.argv[1])
except Refused as e:
    out = {"error": str(e)}
except MemoryError:
    out = {"error": f"reading it needs more than {limits['memory'] >> 20} MiB"}
except Exception as e:
    out = {"error": f"damaged HDF5 file ({type(e).__name__}: {e})"}
print(json.dumps(out))
