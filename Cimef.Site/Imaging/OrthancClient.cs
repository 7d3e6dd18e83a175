using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Imaging;

/// <summary>
/// The clinic's PACS over Orthanc's REST API, with basic auth and a timeout of Imaging:TimeoutSeconds (≤ 5 s) per
/// call. Every way the PACS can fail — unreachable, slow, an error status, an answer that is not the JSON or image it
/// should be — ends as <see cref="UnavailableException"/>, reported to <see cref="PacsHealth"/>; a resource that does
/// not exist is null.
/// </summary>
public sealed class OrthancClient(HttpClient http, PacsHealth health)
{
    public const string HttpClientName = "orthanc";

    /// <summary>The PACS did not answer in time or answered something unusable.</summary>
    public sealed class UnavailableException(string message, Exception? inner = null) : Exception(message, inner);

    public sealed record Change(long Seq, string ChangeType, string ResourceType, string Id);

    public sealed record Changes(IReadOnlyList<Change> Items, long Last, bool Done);

    public sealed record Study(string Id, string StudyInstanceUid, string? AccessionNumber, string? PatientName, DateOnly? Date,
        string Description, IReadOnlyList<string> SeriesIds);

    public sealed record Series(string Id, string Uid, string Modality, string? BodyPart, string Description, int Number, IReadOnlyList<string> InstanceIds);

    public sealed record Statistics(int Series, int Instances, long DiskSize);

    public static void Configure(HttpClient client, ImagingOptions options)
    {
        var o = options.Orthanc;
        client.BaseAddress = new Uri(o.Url!.EndsWith('/') ? o.Url : o.Url + "/");
        client.Timeout = TimeSpan.FromSeconds(options.TimeoutSeconds);
        if (!string.IsNullOrEmpty(o.Username))
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{o.Username}:{o.Password}")));
    }

    public async Task<Changes> ChangesAsync(long since, int limit, CancellationToken ct)
    {
        return await GetAsync($"changes?since={since}&limit={limit}", "changes", json =>
        {
            var items = json["Changes"]!.AsArray().Select(c => new Change((long)c!["Seq"]!, (string)c["ChangeType"]!,
                (string)c["ResourceType"]!, (string)c["ID"]!)).ToList();
            return new Changes(items, (long)json["Last"]!, (bool)json["Done"]!);
        }, ct) ?? throw Garbage("changes");
    }

    public async Task<Study?> StudyAsync(string id, CancellationToken ct)
    {
        if (!IsId(id)) return null;
        return await GetAsync($"studies/{id}", "study", ReadStudy, ct);
    }

    private static Study ReadStudy(JsonNode json)
    {
        var tags = json["MainDicomTags"]!;
        var date = DateOnly.TryParseExact((string?)tags["StudyDate"], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : (DateOnly?)null;
        return new Study((string)json["ID"]!, (string)tags["StudyInstanceUID"]!, Blank((string?)tags["AccessionNumber"]),
            Blank((string?)json["PatientMainDicomTags"]?["PatientName"]), date, (string?)tags["StudyDescription"] ?? "",
            json["Series"]!.AsArray().Select(s => (string)s!).ToList());
    }

    public async Task<Statistics> StatisticsAsync(string id, CancellationToken ct)
    {
        return await GetAsync($"studies/{id}/statistics", "statistics", json => new Statistics((int)json["CountSeries"]!,
            (int)json["CountInstances"]!, long.Parse((string)json["DiskSize"]!, CultureInfo.InvariantCulture)), ct) ?? throw Garbage("statistics");
    }

    /// <summary>The study's series (without their instances), ordered by series number.</summary>
    public async Task<IReadOnlyList<Series>> SeriesListAsync(string studyId, CancellationToken ct)
    {
        return await GetAsync<IReadOnlyList<Series>>($"studies/{studyId}/series", "series", json => json.AsArray().Select(s =>
        {
            var tags = s!["MainDicomTags"]!;
            return new Series((string)s["ID"]!, (string)tags["SeriesInstanceUID"]!, (string?)tags["Modality"] ?? "", Blank((string?)tags["BodyPartExamined"]),
                (string?)tags["SeriesDescription"] ?? "", Number((string?)tags["SeriesNumber"]), []);
        }).OrderBy(s => s.Number).ThenBy(s => s.Id, StringComparer.Ordinal).ToList(), ct) ?? throw Garbage("series");
    }

    /// <summary>A series' instances, ordered by instance number.</summary>
    public async Task<IReadOnlyList<string>> InstancesAsync(string seriesId, CancellationToken ct)
    {
        if (!IsId(seriesId)) return [];
        return await GetAsync<IReadOnlyList<string>>($"series/{seriesId}/instances", "instances", json => json.AsArray()
            .Select(i => (Id: (string)i!["ID"]!, Number: Number((string?)i["MainDicomTags"]?["InstanceNumber"])))
            .OrderBy(i => i.Number).ThenBy(i => i.Id, StringComparer.Ordinal).Select(i => i.Id).ToList(), ct) ?? throw Garbage("instances");
    }

    /// <summary>The study's series, each with its instances in order.</summary>
    public async Task<IReadOnlyList<Series>> SeriesAsync(string studyId, CancellationToken ct)
    {
        var result = new List<Series>();
        foreach (var s in await SeriesListAsync(studyId, ct)) result.Add(s with { InstanceIds = await InstancesAsync(s.Id, ct) });
        return result;
    }

    /// <summary>The Orthanc id of the study an instance belongs to; null when the instance does not exist.</summary>
    public async Task<string?> StudyOfInstanceAsync(string instanceId, CancellationToken ct)
    {
        if (!IsId(instanceId)) return null;
        return await GetAsync($"instances/{instanceId}/study", "instance's study", json => (string)json["ID"]!, ct);
    }

    /// <summary>Studies matching a patient name (any part, case-insensitive) and optionally a date, newest first.</summary>
    public async Task<IReadOnlyList<Study>> FindAsync(string name, DateOnly? date, CancellationToken ct)
    {
        var query = new JsonObject { ["PatientName"] = "*" + string.Concat(name.Where(c => c is not ('*' or '?' or '\\'))).Trim().Replace(' ', '*') + "*" };
        if (date is { } d) query["StudyDate"] = d.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var body = new JsonObject { ["Level"] = "Study", ["Expand"] = true, ["Limit"] = 50, ["Query"] = query, ["CaseSensitive"] = false };
        return await SendAsync<IReadOnlyList<Study>>(new HttpRequestMessage(HttpMethod.Post, "tools/find")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        }, "find", json => json.AsArray().Select(s => ReadStudy(s!)).OrderByDescending(s => s.Date).ToList(), ct) ?? throw Garbage("find");
    }

    /// <summary>An instance rendered as JPEG (Orthanc's /rendered), at its own size or scaled to <paramref name="width"/>.</summary>
    public async Task<byte[]?> RenderAsync(string instanceId, int? width, int quality, CancellationToken ct)
    {
        if (!IsId(instanceId)) return null;
        var query = width is { } w ? $"?width={w}&quality={quality}" : $"?quality={quality}";
        using var request = new HttpRequestMessage(HttpMethod.Get, $"instances/{instanceId}/rendered{query}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("image/jpeg"));
        return await CallAsync(async () =>
        {
            using var response = await http.SendAsync(request, ct);
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            response.EnsureSuccessStatusCode();
            var bytes = await response.Content.ReadAsByteArrayAsync(ct);
            if (Jpeg.Size(bytes) is null) throw Garbage("rendered");
            return bytes;
        }, ct);
    }

    /// <summary>The study's ZIP (DICOM files), as a stream read while it arrives; the timeout covers the headers only.</summary>
    public async Task<Stream?> ArchiveAsync(string studyId, CancellationToken ct)
    {
        if (!IsId(studyId)) return null;
        return await CallAsync<Stream?>(async () =>
        {
            var response = await http.GetAsync($"studies/{studyId}/archive", HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                response.Dispose();
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                response.Dispose();
                throw new HttpRequestException($"HTTP {(int)response.StatusCode}");
            }
            return await response.Content.ReadAsStreamAsync(ct);
        }, ct);
    }

    private Task<T?> GetAsync<T>(string path, string what, Func<JsonNode, T> read, CancellationToken ct) where T : class =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, path), what, read, ct);

    /// <summary>One JSON call: null on 404; the answer read inside the call, so garbage counts as a failure of the PACS.</summary>
    private Task<T?> SendAsync<T>(HttpRequestMessage request, string what, Func<JsonNode, T> read, CancellationToken ct) where T : class => CallAsync(async () =>
    {
        using (request)
        using (var response = await http.SendAsync(request, ct))
        {
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            response.EnsureSuccessStatusCode();
            JsonNode json;
            try
            {
                json = JsonNode.Parse(await response.Content.ReadAsStreamAsync(ct)) ?? throw Garbage(what);
            }
            catch (JsonException e)
            {
                throw new UnavailableException("Orthanc answered something that is not JSON.", e);
            }
            return Read(what, () => read(json));
        }
    }, ct);

    /// <summary>One call to the PACS: its failures become <see cref="UnavailableException"/>, its successes clear the alarm.</summary>
    private async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        try
        {
            var result = await call();
            health.Succeeded();
            return result;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or TaskCanceledException or TimeoutException
            or IOException or UnavailableException)
        {
            var failure = e as UnavailableException ?? new UnavailableException("Orthanc injoignable : " + e.Message, e);
            await health.FailedAsync(failure.Message, ct);
            throw failure;
        }
    }

    /// <summary>Reads fields out of an answer; a missing or mistyped field means the answer is garbage.</summary>
    private static T Read<T>(string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or ArgumentException
            or OverflowException or KeyNotFoundException)
        {
            throw new UnavailableException($"Orthanc answered an unreadable {what}.", e);
        }
    }

    private static UnavailableException Garbage(string what) => new($"Orthanc answered an unreadable {what}.");

    /// <summary>Orthanc ids are five dash-separated groups of 8 hex digits; anything else never reaches the PACS.</summary>
    public static bool IsId(string? id) =>
        id is { Length: 44 } && id.Split('-') is { Length: 5 } parts && parts.All(p => p.Length == 8 && p.All(char.IsAsciiHexDigitLower));

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static int Number(string? s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;
}

/// <summary>Reads a JPEG's pixel size from its frame header (SOF), without decoding it.</summary>
public static class Jpeg
{
    public static (int Width, int Height)? Size(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8) return null;
        var i = 2;
        while (i + 9 < data.Length)
        {
            if (data[i] != 0xFF) return null;
            var marker = data[i + 1];
            if (marker == 0xFF) { i++; continue; }
            var length = (data[i + 2] << 8) | data[i + 3];
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return ((data[i + 7] << 8) | data[i + 8], (data[i + 5] << 8) | data[i + 6]);
            i += 2 + length;
        }
        return null;
    }
}
