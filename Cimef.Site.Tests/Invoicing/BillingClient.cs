using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Invoicing;

/// <summary>Shortcuts for the front desk and billing tests, all through the real JSON API (or the database for fixtures).</summary>
public static class BillingClient
{
    private static int _phone = 7100000;

    public static string NewPhone() => "77" + Interlocked.Increment(ref _phone).ToString("D7");

    public static async Task<int> CreatePatientAsync(this HttpClient client, string name = "Awa Diop", string? phone = null, string? email = "awa@example.sn")
    {
        var r = await client.PostJsonAsync("/api/patients/", new { full_name = name, phone = phone ?? NewPhone(), email });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.JsonAsync()).GetProperty("id").GetInt32();
    }

    public static async Task<JsonElement> CreateInvoiceAsync(this HttpClient client, int patientId, params (string Code, int Qty)[] lines)
    {
        var r = await client.PostJsonAsync("/api/invoices/", new { patient_id = patientId, lines = lines.Select(l => new { exam_code = l.Code, quantity = l.Qty }) });
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return await r.JsonAsync();
    }

    public static async Task<JsonElement> SendInvoiceAsync(this HttpClient client, int invoiceId)
    {
        // A body-less state change still says JSON: cookie callers without it are refused (CSRF).
        var r = await client.PostAsync($"/api/invoices/{invoiceId}/send/", JsonContent.Create(new { }));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return await r.JsonAsync();
    }

    public static async Task<string> HtmlAsync(this HttpResponseMessage r) => WebUtility.HtmlDecode(await r.Content.ReadAsStringAsync());
}
