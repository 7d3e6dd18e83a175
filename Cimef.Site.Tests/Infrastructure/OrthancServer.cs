using System.Diagnostics;
using System.Net.Http.Headers;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// A real Orthanc PACS for one test class: Debian's <c>/usr/sbin/Orthanc</c> with a temporary JSON configuration and
/// storage, loopback HTTP and DICOM ports, basic auth, the DICOMweb plugin when installed, and stable studies after
/// one second. Stopped and deleted on dispose; a watchdog shell kills it if the test process dies first.
/// </summary>
public sealed class OrthancServer : IAsyncDisposable
{
    public const string Binary = "/usr/sbin/Orthanc";
    public const string Username = "cimef";
    public const string DicomWebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

    /// <summary>Why Orthanc tests cannot run here (null when they can).</summary>
    public static string? MissingReason =>
        !File.Exists(Binary) ? "Orthanc is not installed (apt-get install orthanc orthanc-dicomweb dcmtk)."
        : !File.Exists("/usr/bin/img2dcm") ? "dcmtk is not installed (apt-get install dcmtk)."
        : null;

    private readonly Process _process;
    public string Directory { get; }
    public int HttpPort { get; }
    public string Password { get; }
    public Uri Url => new($"http://127.0.0.1:{HttpPort}/");
    public HttpClient Client { get; }

    private OrthancServer(Process process, string directory, int port, string password)
    {
        _process = process;
        Directory = directory;
        HttpPort = port;
        Password = password;
        Client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.ASCII.GetBytes($"{Username}:{password}")));
    }

    /// <summary>The site settings that point the portal at this server.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["Imaging:Orthanc:Url"] = Url.ToString(),
        ["Imaging:Orthanc:Username"] = Username,
        ["Imaging:Orthanc:Password"] = Password,
    };

    public static async Task<OrthancServer> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "cimef-orthanc-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "db"));
        var port = PostgresCluster.FreePort();
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var config = new JsonObject
        {
            ["Name"] = "cimef-test",
            ["StorageDirectory"] = Path.Combine(dir, "db"),
            ["IndexDirectory"] = Path.Combine(dir, "db"),
            ["HttpPort"] = port,
            ["DicomPort"] = PostgresCluster.FreePort(),
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = true,
            ["RegisteredUsers"] = new JsonObject { [Username] = password },
            ["StableAge"] = 1,
            ["HttpTimeout"] = 60,
            ["StorageCompression"] = false,
            ["Plugins"] = File.Exists(DicomWebPlugin) ? new JsonArray(DicomWebPlugin) : new JsonArray(),
        };
        var configPath = Path.Combine(dir, "orthanc.json");
        await File.WriteAllTextAsync(configPath, config.ToJsonString());
        var psi = new ProcessStartInfo(Binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        psi.ArgumentList.Add("--logdir=" + dir);
        psi.ArgumentList.Add(configPath);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Watch(process.Id, dir);
        var server = new OrthancServer(process, dir, port, password);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var r = await server.Client.GetAsync("system");
                if (r.IsSuccessStatusCode) return server;
            }
            catch (HttpRequestException) { }
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException("Orthanc did not start; see its log in " + dir);
            }
            await Task.Delay(100); // Orthanc is another process: its start takes real time
        }
    }

    /// <summary>Kills Orthanc and deletes its folder once this test process is gone, however it ends.</summary>
    private static void Watch(int pid, string dir)
    {
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null && kill -0 {pid} 2>/dev/null; do sleep 1; done; kill -9 {pid} 2>/dev/null; rm -rf '{dir}'";
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in new[] { "sh", "-c", script }) psi.ArgumentList.Add(a);
        Process.Start(psi)!.Dispose();
    }

    /// <summary>Uploads DICOM files (POST /instances); returns the Orthanc study id of the last one.</summary>
    public async Task<string> UploadAsync(IEnumerable<string> files, int parallel = 4)
    {
        string study = "";
        await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (file, ct) =>
        {
            using var content = new ByteArrayContent(await File.ReadAllBytesAsync(file, ct));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
            using var r = await Client.PostAsync("instances", content, ct);
            r.EnsureSuccessStatusCode();
            var json = JsonNode.Parse(await r.Content.ReadAsStringAsync(ct))!;
            study = (string)json["ParentStudy"]!;
        });
        return study;
    }

    /// <summary>Waits until Orthanc has declared the study stable (its StableStudy change is in the feed).</summary>
    public async Task WaitStableAsync(string studyId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var json = JsonNode.Parse(await Client.GetStringAsync($"studies/{studyId}"))!;
            if ((bool?)json["IsStable"] == true) return;
            await Task.Delay(200); // Orthanc marks a study stable after its own real-time StableAge
        }
        throw new TimeoutException("Study " + studyId + " never became stable.");
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); } catch (InvalidOperationException) { }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>What a modality would send: the tags it sets on a study, and its series.</summary>
public sealed record DicomStudySpec(string AccessionNumber, string PatientId = "P-0001", string PatientName = "DIOP^Awa",
    string StudyDate = "20261125", string Modality = "CT", string StudyDescription = "Scanner thoracique",
    int Series = 2, int InstancesPerSeries = 3, int Width = 96, int Height = 64, string? StudyInstanceUid = null, bool Noise = false);

/// <summary>A study written to disk: its UIDs and files.</summary>
public sealed record DicomStudyFiles(string StudyInstanceUid, IReadOnlyList<string> SopInstanceUids, IReadOnlyList<string> Files);

/// <summary>
/// Makes DICOM studies with dcmtk's img2dcm from generated 24-bit BMP images. One img2dcm run per series; the other
/// instances of a series are copies whose SOP Instance UID (fixed length, so the byte layout does not move) is
/// rewritten in place — thousands of instances in a second.
/// </summary>
public static class DicomStudies
{
    private static int _counter;

    public static async Task<DicomStudyFiles> MakeAsync(string directory, DicomStudySpec spec)
    {
        System.IO.Directory.CreateDirectory(directory);
        var studyUid = spec.StudyInstanceUid ?? NewUid();
        var sops = new List<string>();
        var files = new List<string>();
        for (var s = 1; s <= spec.Series; s++)
        {
            var seriesUid = NewUid();
            var bmp = Path.Combine(directory, $"s{s}-{Guid.NewGuid():N}.bmp");
            await File.WriteAllBytesAsync(bmp, Bitmap(spec.Width, spec.Height, s, spec.Noise));
            var first = NewUid();
            var template = Path.Combine(directory, $"{first}.dcm");
            await RunAsync("img2dcm", "-i", "BMP", bmp, template,
                "-k", "PatientID=" + spec.PatientId, "-k", "PatientName=" + spec.PatientName,
                "-k", "AccessionNumber=" + spec.AccessionNumber, "-k", "StudyDate=" + spec.StudyDate,
                "-k", "Modality=" + spec.Modality, "-k", "StudyDescription=" + spec.StudyDescription,
                "-k", "StudyInstanceUID=" + studyUid, "-k", "SeriesInstanceUID=" + seriesUid,
                "-k", "SOPInstanceUID=" + first, "-k", "SeriesNumber=" + s, "-k", "InstanceNumber=1");
            File.Delete(bmp);
            sops.Add(first);
            files.Add(template);
            var bytes = await File.ReadAllBytesAsync(template);
            var pattern = Encoding.ASCII.GetBytes(first);
            for (var i = 2; i <= spec.InstancesPerSeries; i++)
            {
                var uid = NewUid();
                var copy = Replace(bytes, pattern, Encoding.ASCII.GetBytes(uid));
                var path = Path.Combine(directory, $"{uid}.dcm");
                await File.WriteAllBytesAsync(path, copy);
                sops.Add(uid);
                files.Add(path);
            }
        }
        return new DicomStudyFiles(studyUid, sops, files);
    }

    /// <summary>A 2.25 UID of constant length (40 characters).</summary>
    private static string NewUid()
    {
        var n = Interlocked.Increment(ref _counter);
        var random = new BigInteger(RandomNumberGenerator.GetBytes(8), isUnsigned: true) % 100_000_000_000_000_000;
        return $"2.25.1{random:D17}{Environment.ProcessId % 100000:D5}{n:D12}";
    }

    private static byte[] Replace(byte[] source, byte[] from, byte[] to)
    {
        var copy = (byte[])source.Clone();
        var span = copy.AsSpan();
        var offset = 0;
        int at;
        while ((at = span[offset..].IndexOf(from)) >= 0)
        {
            to.CopyTo(span[(offset + at)..]);
            offset += at + from.Length;
        }
        return copy;
    }

    /// <summary>A 24-bit grey BMP: a disc on a gradient that differs per series; with noise, as a scanner's image has (it weighs like one as a JPEG).</summary>
    public static byte[] Bitmap(int width, int height, int seed, bool noise = false)
    {
        var random = new Random(seed);
        var row = (width * 3 + 3) & ~3;
        var data = new byte[54 + row * height];
        var s = data.AsSpan();
        s[0] = (byte)'B';
        s[1] = (byte)'M';
        BitConverter.TryWriteBytes(s[2..], data.Length);
        BitConverter.TryWriteBytes(s[10..], 54);
        BitConverter.TryWriteBytes(s[14..], 40);
        BitConverter.TryWriteBytes(s[18..], width);
        BitConverter.TryWriteBytes(s[22..], height);
        BitConverter.TryWriteBytes(s[26..], (short)1);
        BitConverter.TryWriteBytes(s[28..], (short)24);
        BitConverter.TryWriteBytes(s[34..], row * height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var p = 54 + y * row + x * 3;
                if (!noise)
                {
                    data[p] = (byte)(x * 255 / Math.Max(1, width - 1));
                    data[p + 1] = (byte)(y * 255 / Math.Max(1, height - 1));
                    data[p + 2] = (byte)(seed * 60 % 256);
                    continue;
                }
                var dx = x - width / 2.0;
                var dy = y - height / 2.0;
                var inside = dx * dx + dy * dy < width * height / 6.0;
                var grey = Math.Clamp((inside ? 150 + seed * 10 : 20) + (x + y) % 40 + random.Next(-25, 26), 0, 255);
                data[p] = data[p + 1] = data[p + 2] = (byte)grey;
            }
        return data;
    }

    /// <summary>Runs a tool; its standard output, or an exception with its error output.</summary>
    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed ({p.ExitCode}): {stderr}");
        return await stdout;
    }

    /// <summary>The SOP Instance UIDs of DICOM files (dcmdump), which also proves each file parses as DICOM.</summary>
    public static async Task<IReadOnlyList<string>> SopInstanceUidsAsync(IEnumerable<string> files)
    {
        var uids = new List<string>();
        foreach (var f in files)
        {
            var dump = await RunAsync("dcmdump", "+P", "0008,0018", f);
            var start = dump.IndexOf('[');
            var end = dump.IndexOf(']', start + 1);
            if (start < 0 || end < 0) throw new InvalidOperationException("No SOP Instance UID in " + f + ": " + dump);
            uids.Add(dump[(start + 1)..end]);
        }
        return uids;
    }
}

/// <summary>A [Fact] that needs Orthanc and dcmtk: skipped with the reason where they are not installed.</summary>
public sealed class OrthancFactAttribute : FactAttribute
{
    public OrthancFactAttribute() => Skip = OrthancServer.MissingReason;
}

/// <summary>A JSON helper for Orthanc answers in tests.</summary>
public static class OrthancJson
{
    public static async Task<JsonNode> GetAsync(this OrthancServer server, string path) =>
        JsonNode.Parse(await server.Client.GetStringAsync(path))!;
}
