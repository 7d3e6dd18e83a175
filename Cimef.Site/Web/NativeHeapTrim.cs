using System.Runtime.InteropServices;

namespace Cimef.Site.Web;

/// <summary>
/// Returns the native heap's free pages to the system after each full garbage collection. glibc gives
/// memory back only from the top of its heap; what SQLite's sorts and caches, the JIT and the runtime free in the
/// middle stays resident (about 5 MB after the 200-patient load, measured with malloc_trim from a debugger). The
/// managed heap is compacted by the GC (System.GC.ConserveMemory); this does the same for the native one, at most once
/// per check and only when a full collection happened since the last one. Linux with glibc only: elsewhere
/// (musl, Windows) the call does not exist and the service stops after its first look.
/// </summary>
public sealed class NativeHeapTrim(ILogger<NativeHeapTrim> log) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    /// <summary>Asks glibc to release every free page of its heap; false where there is no malloc_trim.</summary>
    public static bool TryTrim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = GC.CollectionCount(2);
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = GC.CollectionCount(2);
            if (now == seen) continue;
            seen = now;
            if (TryTrim()) continue;
            log.LogInformation("No malloc_trim on this system: the native heap is left to the C library.");
            return;
        }
    }
}
