using Microsoft.AspNetCore.Mvc.ApplicationModels;

namespace Cimef.Site.Portal;

/// <summary>
/// Endpoint metadata: the endpoint belongs to the patient side (the portal's pages, its JSON API, the installable app's
/// files). The patient concurrency limit, the portal timings behind the slow-portal alert, the request metrics and the
/// error page's layout ask the endpoint for it, so a staff endpoint that shares a URL prefix never counts as the patient's.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class PatientSideAttribute : Attribute
{
    /// <summary>
    /// A report download: it streams for as long as the client reads (or never, when stalled), so it never holds a
    /// permit of the patient concurrency limit.
    /// </summary>
    public bool Download { get; init; }
}

public static class PatientSide
{
    /// <summary>The endpoint's patient-side metadata, or null for every other endpoint (and for a path no endpoint matched).</summary>
    public static PatientSideAttribute? Of(Endpoint? endpoint) => endpoint?.Metadata.GetMetadata<PatientSideAttribute>();

    public static PatientSideAttribute? Of(HttpContext http) => Of(http.GetEndpoint());

    /// <summary>Marks minimal-API endpoints (a group or one endpoint) as the patient side.</summary>
    public static TBuilder ForPatients<TBuilder>(this TBuilder builder, bool download = false) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new PatientSideAttribute { Download = download });

    /// <summary>Every page under Pages/Portal is the patient side; a page model may say more with its own attribute.</summary>
    public static void MarkPortalPages(this Microsoft.AspNetCore.Mvc.ApplicationModels.PageConventionCollection conventions) =>
        conventions.AddFolderApplicationModelConvention("/Portal", (PageApplicationModel m) =>
            m.EndpointMetadata.Add(Attribute.GetCustomAttribute(m.HandlerType, typeof(PatientSideAttribute)) ?? new PatientSideAttribute()));
}
