using System.Globalization;
using Cimef.Site.Auditing;

namespace Cimef.Site.Fhir;

/// <summary>
/// Every FHIR read and search is attributable: an audit entry under the token's account (fhir.read: the resource type
/// and id; fhir.search: the resource type and the query) that says how many records it returned. They go through the
/// batched writer (<see cref="AccessEventBatch"/>), so a RIS polling every minute costs no fsync per call. The count
/// opens the detail, where the fhir_bulk_read alert reads it back (<see cref="ResultsOf"/>).
/// </summary>
public static class FhirAudit
{
    public const string ReadAction = "fhir.read";
    public const string SearchAction = "fhir.search";

    public static void Read(HttpContext http, string type, string? id, int results) =>
        Write(http, ReadAction, type, FhirApi.Truncate(id), Detail(results, null));

    public static void Search(HttpContext http, string type, int results) =>
        Write(http, SearchAction, type, null, Detail(results, http.Request.QueryString.Value));

    private static void Write(HttpContext http, string action, string type, string? id, string detail)
    {
        var services = http.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        services.GetRequiredService<AccessEventBatch>().Enqueue(Audit.StaffEntry(http.User, now, action, type, id, detail));
    }

    public static string Detail(int results, string? query) =>
        results.ToString(CultureInfo.InvariantCulture) + " résultat(s)" + (string.IsNullOrEmpty(query) ? "" : " : " + query);

    /// <summary>The number of records an entry written by <see cref="Detail"/> says it returned (0 if unreadable).</summary>
    public static int ResultsOf(string? detail)
    {
        var text = detail ?? "";
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits])) digits++;
        return int.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }
}
