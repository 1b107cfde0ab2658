"""The device is picked at run time: CUDA when there is one, else the CPU."""


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested and requested != "auto":
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def device_stats_reader(device: str):
    """A function giving the figures each batch event carries about the device: on CUDA the
    memory in use and the utilisation (when NVML answers), for the app's monitor; elsewhere none.

    Called at most a few times a second (batch events are throttled); none of it waits for the GPU.
    """
    if not str(device).startswith("cuda"):
        return dict
    import torch

    index = torch.device(device).index or 0
    total_mib = torch.cuda.get_device_properties(index).total_memory / 2**20
    nvml_works = True

    def read() -> dict:
        nonlocal nvml_works
        stats = {"gpu_mem_mib": round(torch.cuda.memory_reserved(index) / 2**20, 1),
                 "gpu_mem_total_mib": round(total_mib, 1)}
        if nvml_works:
            try:  # needs NVML (pynvml / nvidia-ml-py); without it memory is still shown
                stats["gpu_util"] = torch.cuda.utilization(index)
            except Exception:  # noqa: BLE001 - any NVML failure just means no utilisation figure
                nvml_works = False
        return stats

    return read
