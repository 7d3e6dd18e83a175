namespace Cimef.Site.Imaging;

/// <summary>
/// What the images page shows of a study, for the patient (/patient/images/{id}) and a doctor's share
/// (/s/{token}/images/{id}): the series with one thumbnail each, then one page of the images in series order.
/// <see cref="BasePath"/> is where the images are served for that reader, <see cref="ArchiveUrl"/> the whole study.
/// </summary>
public sealed record StudyView(ImagingStudy Study, IReadOnlyList<StudyView.SeriesRow> Series, IReadOnlyList<string> Images,
    int Page, int Pages, int PerPage, string BasePath, string ArchiveUrl)
{
    public sealed record SeriesRow(string Modality, string Description, int Count, string Thumbnail, int FirstPage);

    public string ImageUrl(string instanceId, bool thumbnail) => $"{BasePath}/i/{instanceId}" + (thumbnail ? "?t=1" : "");
    /// <summary>The number of the page's first image in the whole study (1-based).</summary>
    public int FirstNumber => (Page - 1) * PerPage + 1;
    public string PageUrl(int page) => page <= 1 ? BasePath : $"{BasePath}?n={page}";

    /// <summary>Reads the study's series from the PACS and cuts out the page asked for (clamped to the pages there are).</summary>
    public static async Task<StudyView> LoadAsync(OrthancClient orthanc, ImagingStudy study, int page, int perPage, string basePath,
        string archiveUrl, CancellationToken ct)
    {
        var series = await orthanc.SeriesAsync(study.OrthancId, ct);
        var all = series.SelectMany(s => s.InstanceIds).ToList();
        var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
        page = Math.Clamp(page, 1, pages);
        var rows = new List<SeriesRow>();
        var offset = 0;
        foreach (var s in series.Where(s => s.InstanceIds.Count > 0))
        {
            rows.Add(new SeriesRow(s.Modality, s.Description, s.InstanceIds.Count, s.InstanceIds[0], offset / perPage + 1));
            offset += s.InstanceIds.Count;
        }
        return new StudyView(study, rows, all.Skip((page - 1) * perPage).Take(perPage).ToList(), page, pages, perPage, basePath, archiveUrl);
    }
}
