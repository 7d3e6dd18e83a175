using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>The published, self-contained site (publish/&lt;rid&gt;/ from `./run.ps1 publish`) started as its own process on loopback.</summary>
public sealed class PublishedSite : IAsyncDisposable
{
    private readonly Process _process;
    public string Address { get; }
    public int ProcessId => _process.Id;

    private PublishedSite(Process process, string address)
    {
        _process = process;
        Address = address;
    }

    public static string Executable
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cimef.sln"))) dir = dir.Parent;
            var rid = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "win-x64" : "linux-x64";
            var exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "Cimef.Site.exe" : "Cimef.Site";
            return Path.Combine(dir!.FullName, "publish", rid, exe);
        }
    }

    public static async Task<PublishedSite> StartAsync(string dataDir, IDictionary<string, string>? environment = null)
    {
        if (!File.Exists(Executable)) throw new FileNotFoundException("Run `./run.ps1 publish` first (the load bench runs against the published site).", Executable);
        var port = FreePort();
        var address = $"http://127.0.0.1:{port}";
        var psi = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(Executable)! };
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(address);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Storage__DataDirectory"] = dataDir;
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var process = Process.Start(psi)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is null) return;
            log.Enqueue(line);
            while (log.Count > 40) log.TryDequeue(out _);
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                if ((await http.GetAsync(address + "/healthz")).IsSuccessStatusCode) return new PublishedSite(process, address);
            }
            catch (HttpRequestException) { }
            if (process.HasExited) throw new InvalidOperationException($"The published site exited with code {process.ExitCode}:\n{string.Join("\n", log)}");
            await Task.Delay(200); // polling a child process start-up: real time, not test time
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("The published site did not answer /healthz within 60 s.");
    }

    /// <summary>Working set of the server process, in bytes (fresh reading).</summary>
    public long WorkingSet()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    /// <summary>On Linux, the resident memory split: anonymous (heaps), file-backed (mapped runtime and DLLs), shared (JIT double mapping).</summary>
    public string MemoryBreakdown()
    {
        var status = $"/proc/{_process.Id}/status";
        if (!File.Exists(status)) return "";
        var rows = File.ReadAllLines(status).Where(l => l.StartsWith("RssAnon") || l.StartsWith("RssFile") || l.StartsWith("RssShmem"))
            .Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => long.Parse(p[1].Trim().Split(' ')[0]) / 1024);
        return $"anon {rows.GetValueOrDefault("RssAnon")} MB, files {rows.GetValueOrDefault("RssFile")} MB, shared {rows.GetValueOrDefault("RssShmem")} MB";
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        var l = new TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
