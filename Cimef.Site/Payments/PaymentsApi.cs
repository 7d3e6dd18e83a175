using Cimef.Site.Api;
using Cimef.Site.Invoicing;
using Cimef.Site.Web;

namespace Cimef.Site.Payments;

/// <summary>
/// Staff: <c>POST /api/invoices/{id}/payment-link/</c> {"provider": "wave"} → 201 {provider, checkout_id, url, amount}.
/// Providers: <c>POST /api/payments/{provider}/webhook/</c>, anonymous and signed (no cookie, so no CSRF filter).
/// </summary>
public static class PaymentsApi
{
    public sealed record LinkBody(string? Provider);

    /// <summary>A webhook body larger than this is refused before it is read whole (Wave's events are a few hundred bytes).</summary>
    public const int MaxWebhookBytes = 64 * 1024;

    public static void MapPaymentLinkApi(this IEndpointRouteBuilder api)
    {
        api.MapPost("/api/invoices/{id:int}/payment-link/", CreateLinkAsync).RequireAuthorization(Policies.Billing);
    }

    public static void MapPaymentWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/payments/{provider}/webhook/", WebhookAsync).AllowAnonymous().DisableAntiforgery();
    }

    private static async Task<IResult> CreateLinkAsync(int id, HttpRequest request, PaymentLinks links,
        Microsoft.Extensions.Options.IOptions<PortalOptions> portal, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadAsync<LinkBody>(request);
        if (error is not null) return error;
        var provider = links.Provider(body!.Provider);
        if (provider is null) return ApiJson.Errors(new() { ["provider"] = [PaymentLinks.UnknownProvider] });
        var result = await links.CreateAsync(id, provider, request.HttpContext.User, textPatient: false, ct);
        if (result.Unreachable) return ApiJson.Error(result.Error!, StatusCodes.Status502BadGateway);
        if (!result.Ok) return ApiJson.Error(result.Error!, result.Outcome == Outcome.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
        var c = result.Checkout!;
        return Results.Json(new { provider = c.Provider, checkout_id = c.CheckoutId, url = PaymentLinks.PublicUrl(portal.Value, c), amount = c.Amount }, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> WebhookAsync(string provider, HttpContext http, PaymentLinks links, TimeProvider time,
        ILogger<PaymentLinks> log, CancellationToken ct)
    {
        var p = links.Provider(provider);
        if (p is null) return ApiJson.NotFound("Fournisseur de paiement inconnu.");
        if (http.Request.ContentLength > MaxWebhookBytes) return ApiJson.Error("Corps trop volumineux.", StatusCodes.Status413PayloadTooLarge);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxWebhookBytes) return ApiJson.Error("Corps trop volumineux.", StatusCodes.Status413PayloadTooLarge);
            buffer.Write(chunk, 0, read);
        }
        var ev = p.ReadWebhook(http.Request.Headers, buffer.ToArray(), time.GetUtcNow());
        if (ev is null)
        {
            log.LogWarning("{Provider} webhook refused: signature missing, wrong or older than five minutes.", p.Name);
            return ApiJson.Error("Signature invalide ou expirée.", StatusCodes.Status401Unauthorized);
        }
        await links.ApplyAsync(p, ev, ct);
        return Results.Json(new { received = true });
    }
}
